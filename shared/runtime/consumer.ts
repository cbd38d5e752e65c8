import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { InvalidInputError, LeadPipelineError } from '../domain/errors';
import { fieldProblems } from '../domain/input';
import { DETAIL_SCHEMAS, type DetailType, EVENT_SOURCE } from '../events/catalogue';
import type { ReceivedEvent } from '../events/receive';
import type { Decision, EventSink } from '../ports/events';
import type { Outbox } from '../ports/outbox';
import type { StepRunner } from '../ports/steps';
import { announce } from '../services/announce';
import { logger, metrics } from './observability';

/**
 * The event consumers' middleware (middy), so every consumer handler is glue only: a spec (the
 * event's schema, decide → one service call, describe → one log line) and its `defaultDeps`.
 *
 * - **parse**: the Powertools parser (`@aws-lambda-powertools/parser/middleware`) with the
 *   consumer's schema: for pipeline events `EventBridgeSchema.extend` with the catalogue's
 *   detail schema per detail-type ({@link pipelineEventSchema}); a Step Functions task, an SNS
 *   notification or a schedule brings its own. A bad event is an {@link InvalidInputError}
 *   naming every bad field (`source`, `detail-type`, `detail.leadId`...), never retried into luck.
 * - **announce** (when the spec names a publisher): the exactly-once step. The decision itself is
 *   exactly once (a conditional write that records its cause, with its events in an outbox entry
 *   of the same transaction); the middleware publishes that entry and clears it, or publishes the
 *   events of a decision that changed nothing (a retry derives them again). A refused publish of
 *   a stored entry is the relay's; any other failed publish is thrown, so EventBridge and Lambda
 *   retry and the rule's DLQ keeps the event after that.
 * - **steps** (when the spec names a step runner): for a decision that is not exactly once by
 *   its own write, the decision and its publish run as two Powertools idempotency steps keyed by
 *   the spec (`shared/ports/steps.ts`).
 * - **log**: one line per handled event from `describe`, with the event's keys (lead, event id,
 *   test flag) appended to every line the event logs, and the metrics the line counts.
 * - **retry name** (Step Functions tasks): a retryable failure is re-thrown under the task's
 *   stable error name (`retryAs`), which the state machine's `Retry` matches.
 *
 * Dependencies are not the middleware's: the handler module builds them once per instance with
 * `lazyHandler(() => createHandler(defaultDeps()))` (`./handler.ts`).
 */

/** The one log line a consumer writes per event. */
export interface ConsumerLogLine {
  readonly message: string;
  /** @default 'info' */
  readonly level?: 'debug' | 'info' | 'warn' | 'error';
  readonly keys?: Record<string, unknown>;
  /** Metrics this event counts (name → count, unit `Count`; zero is not sent). @default - none */
  readonly count?: Readonly<Record<string, number>>;
}

/** Where a consumer's decisions are announced: the bus, and the outbox its entries are cleared from. */
export interface ConsumerAnnouncer {
  readonly publisher: EventSink;
  /** Clears an outbox entry once its events are on the bus. */
  readonly outbox: Pick<Outbox, 'clear'>;
}

/** Exactly-once steps for a consumer's decision and publish (see {@link ConsumerSpec.steps}). */
export interface ConsumerSteps<E> {
  readonly runner: StepRunner;
  readonly publisher: EventSink;
  /**
   * What makes a redelivery the same: the event id, or the effect (a booking's activity);
   * `undefined` for an event the decision only acknowledges (no step record is written).
   */
  readonly key: (event: E) => string | undefined;
}

/** What {@link consumer} needs to know about one consumer of events of type `E`. */
export interface ConsumerSpec<E, R> {
  /** The whole event's schema (a Standard Schema: zod), parsed by the Powertools parser. */
  readonly schema: z.ZodType<E>;
  /** Changes state (exactly once) by one service call; returns the outcome to describe. */
  readonly decide: (event: E, context: Context | undefined) => Promise<R>;
  /** One log line for the outcome. */
  readonly describe: (result: NoInfer<R>, event: E) => ConsumerLogLine;
  /** Log keys every line logged for this event carries. @default - none */
  readonly keys?: (event: E) => Record<string, unknown>;
  /**
   * Publishes the decision's events (its outbox entry, else its events): the spec's result must
   * then be a {@link Decision}. @default - the decision publishes nothing, or publishes itself
   */
  readonly announce?: ConsumerAnnouncer;
  /**
   * Runs the decision and its publish as two exactly-once steps keyed by `key(event)` (Powertools
   * idempotency records, see `shared/ports/steps.ts`), for a decision that is not exactly once by
   * its own write: a redelivery gets the stored decision and publishes only what is left.
   * @default - no step records (the decision is exactly once by its own conditional write)
   */
  readonly steps?: ConsumerSteps<E>;
  /**
   * Re-throws a retryable failure under a stable error name, for a Step Functions `Retry`.
   * @default - failures are thrown as they are (EventBridge and Lambda retry any of them)
   */
  readonly retryAs?: (error: LeadPipelineError) => Error;
}

/** Stands in for "no Lambda context" (a test's call), which middy would replace with `{}`. */
const NO_CONTEXT = Object.freeze({}) as Context;

/** The middy middleware object; {@link consumer} applies it. */
export function consumerMiddleware<E, R>(spec: ConsumerSpec<E, R>): MiddlewareObj<unknown, R> {
  const parse = parser({ schema: spec.schema, safeParse: true });
  return {
    before: (request) => {
      parse.before?.(request as never);
      const parsed = request.event as { success: boolean; data?: E; error?: { cause?: unknown } };
      if (!parsed.success) {
        const issues = (parsed.error?.cause ?? []) as ConstructorParameters<typeof z.ZodError>[0];
        throw new InvalidInputError(fieldProblems(new z.ZodError(issues), undefined, 'event'));
      }
      request.event = parsed.data;
      if (spec.keys) logger.appendKeys(spec.keys(parsed.data as E));
    },
    after: async (request) => {
      const result = request.response as R;
      const event = request.event as E;
      let outcome: { published: number; relayed: boolean } | undefined;
      if (spec.announce) {
        const decision = result as Decision;
        if (!Array.isArray(decision?.events))
          throw new TypeError('A consumer with `announce` must decide a Decision (outcome, events, outbox?)');
        outcome = { published: 0, relayed: false };
        if (decision.outbox) {
          // Stored with the change: a refusal now is the relay's to publish, not a retry's.
          const done = await announce(decision.outbox, spec.announce as ConsumerAnnouncer);
          outcome = { published: done.published ? decision.events.length : 0, relayed: !done.published };
        } else if (decision.events.length > 0) {
          await (spec.announce as ConsumerAnnouncer).publisher.publish(...decision.events);
          outcome = { published: decision.events.length, relayed: false };
        }
      }
      const line = spec.describe(result, event);
      for (const [name, value] of Object.entries(line.count ?? {}))
        if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
      logger[line.level ?? 'info'](line.message, { ...line.keys, ...outcome });
    },
    onError: (request) => {
      const { error } = request;
      if (spec.retryAs && error instanceof LeadPipelineError && error.retryable) {
        logger.warn('Transient failure; the state machine retries', { error });
        request.error = spec.retryAs(error);
      }
    },
  };
}

/**
 * A consumer handler: `decide` wrapped in {@link consumerMiddleware}. Returns a plain function of
 * the event, so tests call it like the handler it wraps, and the Lambda entry wraps it once more
 * in `lambdaHandler` (logging context, metrics). `decide` gets the Lambda context as given,
 * `undefined` when there is none.
 */
export function consumer<E, R>(
  spec: ConsumerSpec<E, R>,
): (event?: unknown, context?: Partial<Context>) => Promise<R> {
  // No early-timeout abort here: the outer `lambdaHandler` owns the invocation's clock.
  const decide = spec.steps ? decideOnce(spec.steps, spec.decide) : spec.decide;
  const wrapped = middy(
    (event: unknown, context: Context): Promise<R> =>
      decide(event as E, context === NO_CONTEXT ? undefined : context),
    { timeoutEarlyInMillis: 0 },
  ).use(consumerMiddleware(spec));
  // Lambda passes a whole context; a test may pass only the parts the consumer reads.
  return (event, context) => wrapped(event, (context as Context | undefined) ?? NO_CONTEXT) as Promise<R>;
}

/**
 * The two steps of {@link ConsumerSteps}: `decide` once per key, then its events published once
 * per key. Returns the decision (the stored one on a redelivery).
 */
function decideOnce<E, R>(
  steps: ConsumerSteps<E>,
  decide: ConsumerSpec<E, R>['decide'],
): ConsumerSpec<E, R>['decide'] {
  return async (event, context) => {
    const key = steps.key(event);
    if (key === undefined) return decide(event, context);
    steps.runner.useLambdaContext(context);
    const decision = await steps.runner.once('decide', key, () => decide(event, context));
    const { events } = decision as Partial<Decision>;
    if (events && events.length > 0)
      await steps.runner.once('publish', key, async () => {
        await steps.publisher.publish(...events);
        return { published: events.length };
      });
    return decision;
  };
}

/**
 * The schema of an EventBridge event carrying one of the given pipeline detail-types:
 * Powertools' `EventBridgeSchema` extended with the pipeline's source and, per detail-type, the
 * catalogue's detail schema; parsed into a {@link ReceivedEvent} (the event id, stable across
 * redeliveries, the detail-type and the parsed detail).
 */
export function pipelineEventSchema<const T extends DetailType>(
  types: readonly T[],
): z.ZodType<ReceivedEvent<T>> {
  // The messages say what was expected and what came, as the rule's pattern would.
  const source = z.literal(EVENT_SOURCE, {
    error: (issue) => `expected "${EVENT_SOURCE}", got ${JSON.stringify(issue.input)}`,
  });
  const [first, ...rest] = types.map((type) =>
    EventBridgeSchema.extend({
      source,
      'detail-type': z.literal(type),
      detail: DETAIL_SCHEMAS[type] as z.ZodType,
    }),
  );
  if (!first) throw new Error('A pipeline consumer needs at least one detail-type');
  return z
    .discriminatedUnion('detail-type', [first, ...rest], {
      error: (issue) =>
        issue.code === 'invalid_union'
          ? `expected one of ${types.join(', ')}, got ${JSON.stringify((issue.input as Record<string, unknown>)?.['detail-type'])}`
          : undefined,
    })
    .transform((event) => ({
      id: event.id,
      detailType: event['detail-type'],
      detail: event.detail,
    })) as never;
}

/** What {@link eventConsumer} needs to know about one pipeline event consumer (see {@link ConsumerSpec}). */
export interface EventConsumerSpec<T extends DetailType, R> {
  /** Detail-types the consumer's rules forward; anything else is rejected as bad input. */
  readonly types: readonly T[];
  readonly decide: (event: ReceivedEvent<T>, context: Context | undefined) => Promise<R>;
  readonly describe: (result: NoInfer<R>, event: ReceivedEvent<T>) => ConsumerLogLine;
  readonly announce?: ConsumerAnnouncer;
  readonly steps?: ConsumerSteps<ReceivedEvent<T>>;
  readonly retryAs?: (error: LeadPipelineError) => Error;
}

/**
 * A consumer of pipeline events (EventBridge, `source: lead-pipeline`): {@link consumer} with
 * {@link pipelineEventSchema}; every line it logs carries the lead, the event id and the test flag.
 */
export function eventConsumer<const T extends DetailType, R>(spec: EventConsumerSpec<T, R>) {
  return consumer<ReceivedEvent<T>, R>({
    ...(spec as Omit<ConsumerSpec<ReceivedEvent<T>, R>, 'schema'>),
    schema: pipelineEventSchema(spec.types),
    keys: ({ id, detail }) => {
      const { leadId, isTest } = detail as { leadId?: string; isTest?: boolean };
      return { leadId, eventId: id, isTest };
    },
  });
}

/**
 * The error class a Step Functions task re-throws a retryable failure as (the spec's `retryAs`):
 * its `name` is the one the workflow's `Retry` matches (`RETRYABLE_ERRORS` in
 * `shared/contracts/task-errors.ts`), its `cause` the failure.
 */
export function retryableTaskError<const N extends string>(name: N) {
  return class RetryableTaskError extends Error {
    override readonly name: N = name;
    constructor(override readonly cause: LeadPipelineError) {
      super(`${cause.code}: ${cause.message}`);
    }
  };
}
