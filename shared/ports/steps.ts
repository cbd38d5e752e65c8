/** What a step runner needs of the invocation: its remaining time (Lambda's `Context` has it). */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

/**
 * Exactly-once steps for event handlers, on Powertools idempotency. The lead's hot path (score,
 * route) no longer uses them: its steps are exactly once by their own conditional writes (see
 * `shared/runtime/consumer.ts`), nor do the SES-events consumer and the alert any more. What
 * still uses them: the optional third-party enrichment, the meetings consumer and the webhooks'
 * provider records.
 *
 * An event handler that changes state and then publishes events has two effects, and a retry
 * may come between them: the save worked, the publish was throttled, the platform redelivers.
 * Guarding the whole handler with one idempotency record does not help there (a failed run
 * deletes its record, and the re-run finds the state already changed, so it would publish
 * nothing). Instead each effect is its own step, keyed by the triggering event:
 *
 * 1. `decide` changes the state and RETURNS the events it caused; Powertools stores them.
 * 2. `publish` publishes those events.
 *
 * A redelivery after a failed publish gets the stored events from step 1 without redoing it and
 * publishes them; a redelivery after complete success does nothing at all. A run that fails
 * inside a step leaves no record, so the step runs again on retry.
 *
 * Residual window: if the Lambda dies after a step's own write succeeded but before Powertools
 * marked the step complete, the step runs again when its in-progress record expires (the
 * invocation's remaining time, see {@link StepRunner.useLambdaContext}). Steps are written to
 * be idempotent against their own earlier writes, so this never doubles an effect; at worst the
 * re-run finds the work done and has no event to publish, unless the step can recover the event
 * from its own write (routing does: its activity id is derived from the trigger key).
 */
export interface StepRunner {
  /**
   * Runs `work` at most once per `(step, key)` and returns its result; a repeat returns the
   * stored result of the first successful run. The result must be JSON-serialisable; it is
   * returned after a JSON round trip either way, so callers see the same shape on both paths.
   * @throws IdempotencyAlreadyInProgressError while another invocation runs the same step.
   */
  once<T>(step: string, key: string, work: () => Promise<T>): Promise<T>;
  /** Lets an in-progress record expire with the invocation, so a crashed run can be retried. */
  useLambdaContext(context: InvocationContext | undefined): void;
}
