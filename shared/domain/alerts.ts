import type { ClientConfig, Priority, Rep } from '../config/schema';
import { earnsBookingOffer } from './booking';
import type { Lead, LifecycleStage } from './lead';
import type {
  AssignmentFacts,
  EscalationFacts,
  StaleDealFacts,
  TasksOverdueFacts,
  UnworkedFacts,
} from './lead-events';
import { topReasons } from './scoring';
import { assignmentDeadline } from './sla';

/**
 * Rep alerts as facts: what happened to which lead, who should act, the score's reasons, the
 * actions offered and the lead's link. Channel-neutral on purpose: the Slack adapter renders
 * them as Block Kit (`adapters/slack-blocks.ts`) and the SNS adapter as a subject and text
 * (`adapters/alert-topic-message.ts`), each escaping for its own medium. Everything a visitor
 * typed is kept as typed here; {@link cleanText} is the hygiene both renderers apply.
 */

/** Event types the alert function reacts to. */
export const ALERT_EVENT_TYPES = [
  'Lead Assigned',
  'Lead Escalated',
  'Lead Unworked',
  'Stale Deal Found',
  'Tasks Overdue',
] as const;
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];

/** One alertable event, with its parsed detail. */
export type AlertEvent =
  | { readonly type: 'Lead Assigned'; readonly detail: AssignmentFacts }
  | { readonly type: 'Lead Escalated'; readonly detail: EscalationFacts }
  | { readonly type: 'Lead Unworked'; readonly detail: UnworkedFacts }
  | { readonly type: 'Stale Deal Found'; readonly detail: StaleDealFacts }
  | { readonly type: 'Tasks Overdue'; readonly detail: TasksOverdueFacts };

/** The parts of the client configuration alerts read. */
export type AlertConfig = Pick<ClientConfig, 'client' | 'reps' | 'alerts' | 'sla' | 'pipeline'>;

/**
 * The actions an alert may offer, by the id a channel carries and sends back when one is taken
 * (Slack's `action_id`): recording first contact, and opening the lead. Defined once here for the
 * renderers and for the endpoint that receives the press.
 */
export const ALERT_ACTIONS = { contacted: 'lead.contacted', open: 'lead.open' } as const;
/** One of {@link ALERT_ACTIONS}. */
export type AlertAction = (typeof ALERT_ACTIONS)[keyof typeof ALERT_ACTIONS];

/** Where an alert's links point, from the function's environment. */
export interface AlertLinks {
  /** The console's base URL (no trailing slash): the default target of "Open". @default - no console link */
  readonly consoleUrl?: string;
}

/** The lead's page in the console (its hash route). */
export function consoleLeadUrl(consoleUrl: string, leadId: string): string {
  return `${consoleUrl.replace(/\/+$/, '')}/#/leads/${encodeURIComponent(leadId)}`;
}

/** The lead's page in the client's UI: the template with the URL-encoded id. */
export function leadUrl(template: string, leadId: string): string {
  return template.replaceAll('{leadId}', encodeURIComponent(leadId));
}

/** Longest user-supplied value shown in an alert, in characters. */
export const MAX_USER_TEXT = 150;

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g;

/** Trims, folds control characters and runs of whitespace to one space, and bounds the length. */
export function cleanText(value: string | undefined, maxLength = MAX_USER_TEXT): string {
  if (value === undefined) return '';
  const flat = value.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  if (chars.length <= maxLength) return flat;
  return `${chars
    .slice(0, Math.max(0, maxLength - 1))
    .join('')
    .trimEnd()}…`;
}

/** "45 min", "2 h 5 min", "3 days". */
export function formatMinutes(minutes: number): string {
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 48) return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
  return `${Math.floor(hours / 24)} days`;
}

/** Wall-clock reading in a zone, `YYYY-MM-DD HH:mm Zone`, for readers without their own zone. */
export function localTime(at: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(at);
  const get = (t: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${timezone}`;
}

/** A rep named in an alert: their id, name (the id when the file has none) and chat identity. */
export interface AlertPerson {
  readonly id: string;
  readonly name: string;
  /** Their Slack member id, so a channel can mention them. @default - named, not mentioned */
  readonly slackUserId?: string;
}

/** The lead as an alert shows it; the visitor's values as typed (renderers clean and escape). */
export interface AlertLeadFacts {
  /** First and last name, else the email, else "Unnamed lead". */
  readonly name: string;
  readonly jobTitle?: string;
  readonly company?: string;
  readonly stage: LifecycleStage;
  readonly score?: {
    readonly total: number;
    readonly stage: string;
    readonly fit: number;
    readonly engagement: number;
  };
  /** The score's top reasons (the client's `alerts.slack.topReasons`), most points first. */
  readonly reasons: ReadonlyArray<{ readonly label: string; readonly points: number }>;
  readonly source: { readonly channel: string; readonly provider: string; readonly campaign?: string };
}

/** An overdue task, with how late it is when the alert is built. */
export interface OverdueTask {
  readonly title: string;
  readonly dueAt: string;
  readonly minutesOverdue: number;
}

/** A pipeline stage by id and display name. */
export interface AlertStage {
  readonly id: string;
  readonly name: string;
}

/** What happened, per event type, with the people and figures each message names. */
export type AlertSituation =
  | {
      readonly type: 'Lead Assigned';
      readonly owner: AlertPerson;
      /** Set when the SLA ladder took the lead from this rep. @default - a first assignment */
      readonly previousOwner?: AlertPerson;
      readonly via: AssignmentFacts['via'];
      readonly ladderStep: number;
      /** When first touch is due. */
      readonly deadline: Date;
      /** The owner's zone (else the client's), for readers who see no local time of their own. */
      readonly timezone: string;
      /** The visitor is being offered the owner's scheduling page right now (instant booking). */
      readonly bookingOffered: boolean;
    }
  | {
      readonly type: 'Lead Escalated';
      readonly from: AlertPerson;
      readonly ladderStep: number;
      readonly minutesWithoutContact: number;
    }
  | {
      readonly type: 'Lead Unworked';
      readonly lastOwner: AlertPerson;
      readonly minutesWithoutContact: number;
    }
  | {
      readonly type: 'Stale Deal Found';
      readonly owner: AlertPerson;
      readonly stage: AlertStage;
      readonly daysInStage: number;
      /** The deal's amount in the client's currency, formatted. @default - no amount */
      readonly amount?: string;
      readonly overdueTasks: readonly OverdueTask[];
    }
  | {
      readonly type: 'Tasks Overdue';
      readonly owner: AlertPerson;
      readonly stage: AlertStage;
      readonly tasks: readonly OverdueTask[];
    };

/** A ready-to-render alert: the facts every channel shows. */
export interface AlertFacts {
  readonly eventType: AlertEventType;
  readonly leadId: string;
  /** The rep who should act (new owner, escalation recipient, manager). */
  readonly recipient: AlertPerson;
  readonly priority: Priority;
  readonly lead: AlertLeadFacts;
  readonly situation: AlertSituation;
  /** The lead's page: the client's `leadUrlTemplate`, else the console. @default - no link */
  readonly url?: string;
  /** The actions offered, in order. */
  readonly actions: readonly AlertAction[];
}

/** Either an alert to send or the reason there is none. */
export type AlertPlan<A = AlertFacts> =
  | { readonly send: true; readonly alert: A }
  | { readonly send: false; readonly reason: string };

function person(config: AlertConfig, id: string): AlertPerson {
  const rep: Rep | undefined = config.reps.find((r) => r.id === id);
  return { id, name: rep?.name ?? id, ...(rep?.slackUserId ? { slackUserId: rep.slackUserId } : {}) };
}

function leadFacts(config: AlertConfig, lead: Lead): AlertLeadFacts {
  const p = lead.profile;
  const name = [p.firstName, p.lastName].filter((s) => s !== undefined && s.trim() !== '').join(' ');
  const s = lead.score;
  return {
    name: name || p.email || 'Unnamed lead',
    ...(p.jobTitle !== undefined ? { jobTitle: p.jobTitle } : {}),
    ...(p.company !== undefined ? { company: p.company } : {}),
    stage: lead.stage,
    ...(s ? { score: { total: s.total, stage: s.stage, fit: s.fit, engagement: s.engagement } } : {}),
    reasons: s
      ? topReasons(s, config.alerts.slack.topReasons).map((r) => ({ label: r.label, points: r.points }))
      : [],
    source: {
      channel: lead.source.channel,
      provider: lead.source.provider,
      ...(lead.source.utm.campaign ? { campaign: lead.source.utm.campaign } : {}),
    },
  };
}

/** The lead's page: the client's own `leadUrlTemplate` when set (an outside CRM), else the console. */
function pageOf(config: AlertConfig, leadId: string, links: AlertLinks): string | undefined {
  const template = config.client.leadUrlTemplate;
  if (template !== undefined) return leadUrl(template, leadId);
  return links.consoleUrl ? consoleLeadUrl(links.consoleUrl, leadId) : undefined;
}

function overdue(tasks: ReadonlyArray<{ title: string; dueAt: string }>, now: Date): OverdueTask[] {
  return tasks.map((t) => ({
    title: t.title,
    dueAt: t.dueAt,
    minutesOverdue: Math.max(0, Math.floor((now.getTime() - Date.parse(t.dueAt)) / 60_000)),
  }));
}

function stageOf(config: AlertConfig, id: string): AlertStage {
  return { id, name: config.pipeline.stages.find((s) => s.id === id)?.name ?? id };
}

/** The rep who should act on the event: the new owner, the escalation's recipient or the manager. */
function recipientOf(event: AlertEvent): string {
  switch (event.type) {
    case 'Lead Escalated':
      return event.detail.toRepId ?? event.detail.fromRepId;
    case 'Lead Unworked':
      return event.detail.managerId;
    default:
      return event.detail.repId;
  }
}

/** What happened, with the people and figures the alert names. */
function situationOf(event: AlertEvent, lead: Lead, config: AlertConfig): AlertSituation {
  const at = (id: string) => person(config, id);
  switch (event.type) {
    case 'Lead Assigned': {
      const d = event.detail;
      const rep = config.reps.find((r) => r.id === d.repId);
      const escalated = d.via === 'escalation' && d.previousOwner !== undefined;
      return {
        type: event.type,
        owner: at(d.repId),
        ...(escalated ? { previousOwner: at(d.previousOwner ?? '') } : {}),
        via: d.via,
        ladderStep: d.ladderStep,
        deadline: assignmentDeadline(config.sla, rep, new Date(d.assignedAt), d.ladderStep),
        timezone: rep?.timezone ?? config.client.timezone,
        bookingOffered: !escalated && earnsBookingOffer({ ...lead, owner: d.repId }, config),
      };
    }
    case 'Lead Escalated':
      return {
        type: event.type,
        from: at(event.detail.fromRepId),
        ladderStep: event.detail.ladderStep,
        minutesWithoutContact: event.detail.minutesWithoutContact,
      };
    case 'Lead Unworked':
      return {
        type: event.type,
        lastOwner: at(event.detail.lastOwner),
        minutesWithoutContact: event.detail.minutesWithoutContact,
      };
    case 'Stale Deal Found': {
      const d = event.detail;
      const amount =
        lead.amount === undefined
          ? undefined
          : new Intl.NumberFormat('en-GB', {
              style: 'currency',
              currency: config.client.currency,
              maximumFractionDigits: 0,
            }).format(lead.amount);
      return {
        type: event.type,
        owner: at(d.repId),
        stage: stageOf(config, d.pipelineStage),
        daysInStage: d.daysInStage,
        ...(amount ? { amount } : {}),
        overdueTasks: overdue(d.overdueTasks, new Date(d.occurredAt)),
      };
    }
    case 'Tasks Overdue':
      return {
        type: event.type,
        owner: at(event.detail.repId),
        stage: stageOf(config, event.detail.pipelineStage),
        tasks: overdue(event.detail.tasks, new Date(event.detail.occurredAt)),
      };
  }
}

/**
 * The facts of the alert for an event about `lead`, or why there is none. Test leads are never
 * alerted (checked on the event and on the stored lead). A `Lead Escalated` event whose ladder
 * step reassigns the lead is announced by the `Lead Assigned` event the same escalation
 * publishes, so the channel sees one message per escalation, not two.
 */
export function planAlert(
  event: AlertEvent,
  lead: Lead,
  config: AlertConfig,
  links: AlertLinks = {},
): AlertPlan {
  if (event.detail.isTest || lead.isTest) return { send: false, reason: 'test lead: never alerted' };
  if (event.detail.leadId !== lead.id)
    return { send: false, reason: `event is about lead ${event.detail.leadId}, not ${lead.id}` };
  if (event.type === 'Lead Escalated') {
    const step = config.sla.ladder[event.detail.ladderStep - 1];
    if (step?.reassign && event.detail.toRepId !== undefined)
      return {
        send: false,
        reason: 'the escalation reassigned the lead; its Lead Assigned event carries the alert',
      };
  }
  const url = pageOf(config, lead.id, links);
  // Until someone made contact, the alert offers to record it.
  const contact = lead.firstTouchAt === undefined && lead.pipelineStage === undefined;
  return {
    send: true,
    alert: {
      eventType: event.type,
      leadId: event.detail.leadId,
      recipient: person(config, recipientOf(event)),
      // An assignment carries the priority routing gave it; other events go by the stored lead.
      priority: event.type === 'Lead Assigned' ? event.detail.priority : lead.priority,
      lead: leadFacts(config, lead),
      situation: situationOf(event, lead, config),
      ...(url !== undefined ? { url } : {}),
      actions: [
        ...(contact ? [ALERT_ACTIONS.contacted] : []),
        ...(url !== undefined ? [ALERT_ACTIONS.open] : []),
      ],
    },
  };
}
