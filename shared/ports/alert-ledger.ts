/** The channels an alert goes out on. */
export type AlertChannel = 'slack' | 'sns';

/**
 * Exactly one send per alert and channel, with one claim per alert.
 *
 * Neither a Slack post nor an SNS publish can be made conditional, so the alert is claimed
 * before it is sent: the claim is one item keyed by the effect (the alert key, see the `alert`
 * function), written only if no claim exists, the last one was released, or the last one was
 * never completed and its lease has run out (the invocation that held it died between the claim
 * and the send: a timeout, a crash). A successful send completes the claim; a failed one releases
 * it, recording the channels that did go out, so the retry (Lambda's, or a DLQ redrive) sends only
 * the rest. What remains is the window Powertools idempotency had too: an invocation that dies
 * after a send but before completing it sends that alert again once its lease runs out.
 */
export interface AlertLedger {
  /**
   * Claims the alert for `leaseMs` (the invocation's remaining time). @returns the channels an
   * earlier, released attempt already delivered, or `undefined` when another attempt holds a live
   * claim or completed the alert (nothing to send).
   */
  claim(
    alertKey: string,
    leaseMs: number,
  ): Promise<{ readonly delivered: readonly AlertChannel[] } | undefined>;
  /** Marks the alert sent on every channel: no later delivery of it sends anything. */
  complete(alertKey: string): Promise<void>;
  /** Releases a claim after a failure, remembering what was delivered (all `delivered` so far). */
  release(alertKey: string, delivered: readonly AlertChannel[]): Promise<void>;
}
