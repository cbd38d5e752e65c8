import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventField, type IEventBus, Match, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { EmailSendingEvent, type IConfigurationSet, type IEmailIdentity } from 'aws-cdk-lib/aws-ses';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { ClientConfig } from '../../shared/config/schema';
import { keys } from '../../shared/contracts/table-design';
import { ALERT_EVENT_TYPES } from '../../shared/domain/alerts';
import type { LeadFunction, LeadFunctionAccess } from '../constructs/lead-function';
import type { PipelineConsumerProps } from '../constructs/pipeline-consumer';
import type { SlaLadder } from '../constructs/sla-ladder';

/**
 * One consumer of the pipeline: what runs, on which events or schedule, and why. What runs is
 * exactly one of: a function of its own (`access`: the stack creates `functions/<consumer>/`
 * with that access and its own dead-letter queue), another row's function (`runs`), or a state
 * machine (`workflow`). A new consumer is one row in {@link pipelineConsumers} plus its handler
 * and service.
 */
export interface ConsumerRow
  extends Omit<PipelineConsumerProps, 'target' | 'bus' | 'deadLetterQueue'>,
    ConsumerFunction {
  /**
   * Names the rule (`<Consumer>Rule`) and its dead-letter queue, and, with `access`, the function
   * (`functions/<consumer>/handler.ts`, construct `<Consumer>`).
   */
  readonly consumer: string;
  /**
   * Runs the function another row declares (by its `consumer`), e.g. a second trigger of it.
   * @default - not another row's function
   */
  readonly runs?: string;
  /** Runs a state machine: an execution per event. @default - not a state machine */
  readonly workflow?: IStateMachine;
  /** @default - the pipeline bus */
  readonly bus?: IEventBus;
}

/** The function a {@link ConsumerRow} declares (invoked asynchronously by its rule). */
export interface ConsumerFunction {
  /**
   * What the function may touch: each entry sets its environment variable and makes its grant
   * (see `LeadFunctionAccess`). The integration secrets it reads come from `INTEGRATION_SECRETS`.
   * @default - the row declares no function (set `runs` or `workflow`)
   */
  readonly access?: LeadFunctionAccess;
  /** Longest run. @default {@link CONSUMER_TIMEOUT} */
  readonly timeout?: Duration;
  /** Memory in MB. @default - `LeadFunction`'s default */
  readonly memorySize?: number;
  /** Grants beyond `access`, made on the function once it exists. @default - none */
  readonly grant?: (fn: LeadFunction) => void;
}

/**
 * What a row runs: its own function or another row's (from `functions`, the functions the rows
 * declared, by name), or its state machine.
 * @throws Error naming the consumer when the row sets not exactly one of `access`, `runs` and
 * `workflow`, or runs a function no row declares.
 */
export function consumerTarget(
  row: ConsumerRow,
  functions: Readonly<Record<string, LeadFunction>>,
): LeadFunction | IStateMachine {
  const declared = [row.access, row.runs, row.workflow].filter((t) => t !== undefined).length;
  if (declared !== 1)
    throw new Error(
      `consumer ${row.consumer}: set exactly one of access, runs or workflow (got ${declared})`,
    );
  if (row.workflow) return row.workflow;
  const name = row.runs ?? row.consumer;
  const fn = functions[name];
  if (!fn) throw new Error(`consumer ${row.consumer}: runs the function "${name}", which no row declares`);
  return fn;
}

/** How long an event consumer may run unless its row says otherwise. */
export const CONSUMER_TIMEOUT = Duration.seconds(30);

/** SES event types published for the nurture and auto-response emails. */
export const SES_EVENT_TYPES = [
  EmailSendingEvent.SEND,
  EmailSendingEvent.DELIVERY,
  EmailSendingEvent.OPEN,
  EmailSendingEvent.CLICK,
  EmailSendingEvent.BOUNCE,
  EmailSendingEvent.COMPLAINT,
  EmailSendingEvent.REJECT,
] as const;

/** EventBridge `detail-type` values SES uses for {@link SES_EVENT_TYPES}. */
export const SES_DETAIL_TYPES = [
  'Email Sent',
  'Email Delivered',
  'Email Opened',
  'Email Clicked',
  'Email Bounced',
  'Email Complaint Received',
  'Email Rejected',
] as const;

/** Daily stale-deal sweep, 07:00 UTC (before the working day in EMEA, overnight in the Americas). */
export const STALE_DEALS_SCHEDULE = { minute: '0', hour: '7' } as const;

/** How often held leads are checked; a held lead waits at most this long past its hour. */
export const HELD_LEADS_SWEEP = Duration.minutes(5);
/**
 * How often the relay publishes outbox entries their writers left behind (the bus refused them):
 * the longest a lead accepted while the bus is down waits once the bus is back.
 */
export const OUTBOX_RELAY_SWEEP = Duration.minutes(1);
/**
 * How often leads stored `pending` (a Meta or LinkedIn lead without a token yet) are looked at;
 * each lead also waits out its own growing pause between reads.
 */
export const PENDING_LEADS_SWEEP = Duration.minutes(5);

/** The partitions the pending-leads function may touch (IAM leading keys). */
const PENDING_LEAD_PARTITIONS = [
  keys.pendingPartition,
  keys.outboxPartition,
  keys.leadPartition('*'),
  keys.dedupe('*').pk,
  keys.external('*', '*').pk,
];

/**
 * What the consumer rows may use: the stack's shared resources. A new consumer normally needs
 * nothing new here.
 */
export interface ConsumerResources {
  /** The validated client config (which consumers exist depends on it). */
  readonly config: ClientConfig;
  /** The lead table. */
  readonly table: ITable;
  /** The pipeline bus. */
  readonly bus: IEventBus;
  /** Sending email: the identity and this client's SES configuration set. */
  readonly email: { readonly identity: IEmailIdentity; readonly configurationSet: IConfigurationSet };
  /** Where forms, the tracking script and email links point (no trailing slash). */
  readonly publicUrl: string;
  /** The sales console's URL (links in alerts). */
  readonly consoleUrl: string;
  /** SNS topic for rep alerts. */
  readonly alertTopic: ITopic;
  /** The SLA ladder: its rung workflow, and cancelling a ladder. */
  readonly slaLadder: SlaLadder;
  /** The nurture workflow. */
  readonly nurture: IStateMachine;
  /** The SMS meeting-reminder workflow. @default - SMS is off */
  readonly smsReminders?: IStateMachine;
  /** This client's SES configuration set: its sending events only. */
  readonly configurationSetName: string;
  /** The default bus, where SES publishes. */
  readonly defaultBus: IEventBus;
}

/**
 * Every consumer of the pipeline, one row each (a new consumer is one row here plus its handler
 * and service); `undefined` for a consumer the client file turns off.
 */
export function pipelineConsumers(r: ConsumerResources): ReadonlyArray<ConsumerRow | undefined> {
  const table = (mode: 'read' | 'readWrite') => ({ table: r.table, mode });
  const { config, bus } = r;
  return [
    // Built-in enrichment runs inside capture and webhooks; this function exists only to ask a
    // configured third-party provider, beside scoring rather than in front of it.
    config.enrichment.provider?.enabled
      ? {
          consumer: 'enrich',
          access: { table: table('readWrite'), eventBus: bus },
          on: ['Lead Captured'],
          detail: { pending: [false] },
          description: 'Ask the third-party provider about captured leads whose fields are complete',
        }
      : undefined,
    // Two rules, as EventBridge patterns cannot make a detail filter depend on the detail-type.
    {
      consumer: 'score',
      access: { table: table('readWrite'), eventBus: bus },
      on: ['Lead Captured'],
      detail: { pending: [false] },
      description: 'Score complete leads as they are captured (already enriched by the built-in rules)',
    },
    {
      consumer: 'rescore',
      runs: 'score',
      on: ['Lead Enriched', 'Activity Recorded'],
      description: "Re-score a lead after a provider's enrichment or new activity",
    },
    {
      consumer: 'route',
      access: { table: table('readWrite'), eventBus: bus },
      on: ['Lead Scored'],
      detail: { routable: [true] },
      description: 'Route leads whose score made them routable',
    },
    {
      consumer: 'alert',
      access: {
        // Reads the lead it alerts about; writes its own idempotency records only (one send per
        // event and channel), so a compromised alert function cannot change or delete a lead.
        table: {
          table: r.table,
          mode: 'readWrite',
          partitions: { read: [keys.leadPartition('*')], write: [keys.idempotencyPartition('alert')] },
        },
        alertTopic: r.alertTopic,
        consoleUrl: r.consoleUrl,
      },
      on: [...ALERT_EVENT_TYPES],
      detail: { isTest: [false] },
      description: 'Alert reps and managers (never for test leads)',
    },
    {
      consumer: 'auto-respond',
      access: { table: table('readWrite'), email: r.email, apiUrl: r.publicUrl },
      on: ['Lead Captured'],
      detail: { isTest: [false], pending: [false] },
      description: 'Send the auto-response to real, complete leads',
    },
    {
      consumer: 'erase',
      // Reads the whole table (Scan) to find every item of the person: minutes, not an API call.
      access: { table: table('readWrite') },
      timeout: Duration.minutes(15),
      memorySize: 1024,
      on: ['Erasure Requested'],
      description: 'Run the erasure job an admin started',
    },
    {
      consumer: 'sla-start',
      workflow: r.slaLadder.stateMachine,
      on: ['Lead Assigned'],
      detail: { via: Match.anythingBut('escalation'), isTest: [false] },
      input: RuleTargetInput.fromObject({ rung: 0, assignment: EventField.fromPath('$.detail') }),
      description:
        'Start the SLA clock (rung 0 of the ladder) for every new (non-escalation) assignment of a real lead',
    },
    {
      consumer: 'meetings',
      // Follows up a booking from Calendly or Cal.com: first touch (stops the SLA ladder), Meeting Booked.
      access: { table: table('readWrite'), eventBus: bus },
      grant: (fn) => r.slaLadder.grantCancel(fn),
      // A cancellation is recorded as a note; the function tells bookings from other notes.
      on: ['Activity Recorded'],
      detail: { type: ['meeting_booked', 'note'] },
      description: 'Treat a meeting booked through a scheduling tool as first contact, and announce it',
    },
    {
      consumer: 'follow-up',
      // Writes tasks under the lead it is told about and reads that lead: item operations in lead
      // partitions only (no index, no scan, no routing state or idempotency records).
      access: {
        table: {
          table: r.table,
          mode: 'readWrite',
          partitions: { read: [], write: [keys.leadPartition('*')] },
        },
      },
      on: ['Lead Assigned', 'Lead Contacted', 'Lead Stage Changed'],
      detail: { isTest: [false] },
      description: "Create and close reps' follow-up tasks and stages' required actions (real leads)",
    },
    // Behaviour-started sequences (nurture.triggers): read page views, start a sequence by name.
    config.nurture.triggers.length > 0
      ? {
          consumer: 'nurture-trigger',
          access: { table: table('readWrite'), nurtureStart: r.nurture },
          on: ['Activity Recorded'],
          detail: { type: ['page_view'], isTest: [false] },
          description: "Start a nurture trigger's sequence when a lead's page views fire it",
        }
      : undefined,
    {
      consumer: 'nurture',
      workflow: r.nurture,
      on: ['Lead Nurtured'],
      description: 'Run the nurture sequence a lead was enrolled in',
    },
    r.smsReminders && {
      consumer: 'sms-reminder',
      workflow: r.smsReminders,
      on: ['Meeting Booked'],
      detail: { isTest: [false] },
      description: 'Text the lead a reminder of a booked meeting',
    },
    {
      consumer: 'ses-events',
      access: { table: table('readWrite'), eventBus: bus },
      pattern: {
        source: ['aws.ses'],
        detailType: [...SES_DETAIL_TYPES],
        detail: {
          mail: { tags: { 'ses:configuration-set': [r.configurationSetName] } },
        },
      },
      bus: r.defaultBus,
      description: "Record SES sending events for this client's configuration set",
    },
    {
      consumer: 'stale-deals',
      // Writes one marker per deal per day, so a re-run of the sweep alerts each deal once.
      access: { table: table('readWrite'), eventBus: bus },
      timeout: Duration.minutes(5),
      memorySize: 1024,
      schedule: Schedule.cron(STALE_DEALS_SCHEDULE),
      description: 'Daily sweep for opportunities stuck in a stage',
    },
    {
      consumer: 'relay',
      // Publishes what capture, webhooks, the leads API and unsubscribe stored but could not
      // publish. Reads and deletes outbox entries only: it cannot read or change a lead.
      access: {
        table: {
          table: r.table,
          mode: 'readWrite',
          partitions: { read: [keys.outboxPartition], write: [keys.outboxPartition] },
        },
        eventBus: bus,
      },
      schedule: Schedule.rate(OUTBOX_RELAY_SWEEP),
      description: 'Publish the outbox entries a writer left behind (the bus refused them)',
    },
    {
      consumer: 'pending-leads',
      // Reads Meta and LinkedIn leads stored `pending` again and completes them: the stub
      // (completed in place, or merged into the person's lead), its dedupe and provider-id
      // pointers, the markers and the outbox; never rep counters, cursors, suppression or
      // idempotency records.
      access: {
        table: {
          table: r.table,
          mode: 'readWrite',
          partitions: { read: PENDING_LEAD_PARTITIONS, write: PENDING_LEAD_PARTITIONS },
        },
        eventBus: bus,
      },
      schedule: Schedule.rate(PENDING_LEADS_SWEEP),
      description: 'Read Meta and LinkedIn leads stored pending again, and complete them',
    },
    {
      consumer: 'release-held',
      runs: 'route',
      schedule: Schedule.rate(HELD_LEADS_SWEEP),
      description: 'Route held leads once their team is back on shift',
    },
  ];
}
