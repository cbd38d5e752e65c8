import { Duration } from 'aws-cdk-lib';
import {
  type EventPattern,
  type IEventBus,
  type IRuleTarget,
  Rule,
  RuleTargetInput,
  type Schedule,
} from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type DetailType, EVENT_SOURCE } from '../../shared/events/catalogue';
import type { LeadFunction } from './lead-function';

/** Retry policy of every EventBridge target: transient delivery failures retry, then the DLQ. */
export const TARGET_RETRY = { maxEventAge: Duration.hours(4), retryAttempts: 10 } as const;

/** Properties of a {@link PipelineConsumer}: exactly one of `on`, `pattern` or `schedule`. */
export interface PipelineConsumerProps {
  /** What runs: a function (invoked asynchronously) or a state machine (an execution per event). */
  readonly target: LeadFunction | IStateMachine;
  /**
   * Pipeline events that trigger it, by detail-type (source `EVENT_SOURCE` on the pipeline bus).
   * @default - not triggered by pipeline events (set `pattern` or `schedule`)
   */
  readonly on?: readonly DetailType[];
  /** A filter on the events' detail, with `on`. @default - every event of those detail-types */
  readonly detail?: Readonly<Record<string, unknown>>;
  /**
   * Any other event pattern (e.g. SES sending events on the default bus).
   * @default - none
   */
  readonly pattern?: EventPattern;
  /** Runs on a schedule instead of on events. @default - not scheduled */
  readonly schedule?: Schedule;
  /** The bus the events arrive on (ignored for a schedule). */
  readonly bus: IEventBus;
  /** Undeliverable events, after EventBridge's retries ({@link TARGET_RETRY}). */
  readonly deadLetterQueue: IQueue;
  /**
   * What the target receives.
   * @default - a function gets the whole event; a state machine gets the event's `detail`
   */
  readonly input?: RuleTargetInput;
  /** Why it consumes these events, in the rule's description. */
  readonly description: string;
}

function isFunction(target: LeadFunction | IStateMachine): target is LeadFunction {
  return 'fn' in target;
}

/**
 * One consumer of pipeline events (or of a schedule): an EventBridge rule with an explicit
 * pattern, the target's retry policy and a dead-letter queue. The rule is the construct's
 * `Default` child, so its logical id is the construct's own (`<Consumer>Rule`), as before the
 * construct existed: redeploying keeps every rule.
 */
export class PipelineConsumer extends Construct {
  /** The rule. */
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: PipelineConsumerProps) {
    super(scope, id);
    const triggers = [props.on, props.pattern, props.schedule].filter((t) => t !== undefined);
    if (triggers.length !== 1)
      throw new Error(
        `${id}: a consumer needs exactly one of on, pattern or schedule (got ${triggers.length})`,
      );
    const target: IRuleTarget = isFunction(props.target)
      ? new LambdaFunction(props.target.fn, {
          deadLetterQueue: props.deadLetterQueue,
          ...TARGET_RETRY,
          ...(props.input ? { event: props.input } : {}),
        })
      : new SfnStateMachine(props.target, {
          // The execution input is the event's detail unless said otherwise; see infra/CONTRACTS.md.
          input: props.input ?? RuleTargetInput.fromEventPath('$.detail'),
          deadLetterQueue: props.deadLetterQueue,
          ...TARGET_RETRY,
        });
    const pattern: EventPattern | undefined = props.on
      ? {
          source: [EVENT_SOURCE],
          detailType: [...props.on],
          ...(props.detail ? { detail: { ...props.detail } } : {}),
        }
      : props.pattern;
    this.rule = new Rule(this, 'Default', {
      description: props.description,
      ...(props.schedule ? { schedule: props.schedule } : { eventBus: props.bus, eventPattern: pattern }),
      targets: [target],
    });
  }
}
