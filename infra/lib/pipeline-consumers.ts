import { Duration } from 'aws-cdk-lib';
import { EventField, type IEventBus, Match, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { EmailSendingEvent } from 'aws-cdk-lib/aws-ses';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { ALERT_EVENT_TYPES } from '../../shared/domain/alerts';
import type { LeadFunction } from '../constructs/lead-function';
import type { PipelineConsumerProps } from '../constructs/pipeline-consumer';

/**
 * One consumer of the pipeline: what runs, on which events or schedule, and why. A new consumer
 * is one row in the table of `PipelineStack` plus its handler and service (`pipelineConsumers`).
 */
export interface ConsumerRow extends Omit<PipelineConsumerProps, 'bus' | 'deadLetterQueue'> {
  /** Names the rule (`<Consumer>Rule`) and its dead-letter queue. */
  readonly consumer: string;
  /** @default - the pipeline bus */
  readonly bus?: IEventBus;
}

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

/** What the consumers run: the functions and state machines of the {@link PipelineStack}. */
export interface ConsumerTargets {
  readonly enrich?: LeadFunction;
  readonly score: LeadFunction;
  readonly route: LeadFunction;
  readonly alert: LeadFunction;
  readonly autoRespond: LeadFunction;
  readonly erase: LeadFunction;
  readonly sla: IStateMachine;
  readonly meetings: LeadFunction;
  readonly followUp: LeadFunction;
  readonly nurtureTrigger?: LeadFunction;
  readonly nurture: IStateMachine;
  readonly sesEvents: LeadFunction;
  readonly staleDeals: LeadFunction;
  readonly relay: LeadFunction;
  readonly pendingLeads: LeadFunction;
  /** This client's SES configuration set: its sending events only. */
  readonly configurationSetName: string;
  /** The default bus, where SES publishes. */
  readonly defaultBus: IEventBus;
}

/**
 * Every consumer of the pipeline, one row each (a new consumer is one row here plus its handler
 * and service); `undefined` for a consumer the client file turns off.
 */
export function pipelineConsumers(t: ConsumerTargets): ReadonlyArray<ConsumerRow | undefined> {
  return [
    t.enrich && {
      consumer: 'enrich',
      target: t.enrich,
      on: ['Lead Captured'],
      detail: { pending: [false] },
      description: 'Ask the third-party provider about captured leads whose fields are complete',
    },
    // Two rules, as EventBridge patterns cannot make a detail filter depend on the detail-type.
    {
      consumer: 'score',
      target: t.score,
      on: ['Lead Captured'],
      detail: { pending: [false] },
      description: 'Score complete leads as they are captured (already enriched by the built-in rules)',
    },
    {
      consumer: 'rescore',
      target: t.score,
      on: ['Lead Enriched', 'Activity Recorded'],
      description: "Re-score a lead after a provider's enrichment or new activity",
    },
    {
      consumer: 'route',
      target: t.route,
      on: ['Lead Scored'],
      detail: { routable: [true] },
      description: 'Route leads whose score made them routable',
    },
    {
      consumer: 'alert',
      target: t.alert,
      on: [...ALERT_EVENT_TYPES],
      detail: { isTest: [false] },
      description: 'Alert reps and managers (never for test leads)',
    },
    {
      consumer: 'auto-respond',
      target: t.autoRespond,
      on: ['Lead Captured'],
      detail: { isTest: [false], pending: [false] },
      description: 'Send the auto-response to real, complete leads',
    },
    {
      consumer: 'erase',
      target: t.erase,
      on: ['Erasure Requested'],
      description: 'Run the erasure job an admin started',
    },
    {
      consumer: 'sla-start',
      target: t.sla,
      on: ['Lead Assigned'],
      detail: { via: Match.anythingBut('escalation'), isTest: [false] },
      input: RuleTargetInput.fromObject({ rung: 0, assignment: EventField.fromPath('$.detail') }),
      description:
        'Start the SLA clock (rung 0 of the ladder) for every new (non-escalation) assignment of a real lead',
    },
    {
      consumer: 'meetings',
      target: t.meetings,
      // A cancellation is recorded as a note; the function tells bookings from other notes.
      on: ['Activity Recorded'],
      detail: { type: ['meeting_booked', 'note'] },
      description: 'Treat a meeting booked through a scheduling tool as first contact, and announce it',
    },
    {
      consumer: 'follow-up',
      target: t.followUp,
      on: ['Lead Assigned', 'Lead Contacted', 'Lead Stage Changed'],
      detail: { isTest: [false] },
      description: "Create and close reps' follow-up tasks and stages' required actions (real leads)",
    },
    t.nurtureTrigger && {
      consumer: 'nurture-trigger',
      target: t.nurtureTrigger,
      on: ['Activity Recorded'],
      detail: { type: ['page_view'], isTest: [false] },
      description: "Start a nurture trigger's sequence when a lead's page views fire it",
    },
    {
      consumer: 'nurture',
      target: t.nurture,
      on: ['Lead Nurtured'],
      description: 'Run the nurture sequence a lead was enrolled in',
    },
    {
      consumer: 'ses-events',
      target: t.sesEvents,
      pattern: {
        source: ['aws.ses'],
        detailType: [...SES_DETAIL_TYPES],
        detail: {
          mail: { tags: { 'ses:configuration-set': [t.configurationSetName] } },
        },
      },
      bus: t.defaultBus,
      description: "Record SES sending events for this client's configuration set",
    },
    {
      consumer: 'stale-deals',
      target: t.staleDeals,
      schedule: Schedule.cron(STALE_DEALS_SCHEDULE),
      description: 'Daily sweep for opportunities stuck in a stage',
    },
    {
      consumer: 'relay',
      target: t.relay,
      schedule: Schedule.rate(OUTBOX_RELAY_SWEEP),
      description: 'Publish the outbox entries a writer left behind (the bus refused them)',
    },
    {
      consumer: 'pending-leads',
      target: t.pendingLeads,
      schedule: Schedule.rate(PENDING_LEADS_SWEEP),
      description: 'Read Meta and LinkedIn leads stored pending again, and complete them',
    },
    {
      consumer: 'release-held',
      target: t.route,
      schedule: Schedule.rate(HELD_LEADS_SWEEP),
      description: 'Route held leads once their team is back on shift',
    },
  ];
}
