import type { ClientConfig } from '../config/schema';
import type { Activity, ActivityType, Lead } from '../domain/lead';
import {
  interpretSesEvent,
  type MachineReason,
  messageHistory,
  messageTags,
  SES_ACTIVITY_TYPES,
  type SesEvent,
} from '../domain/ses-events';
import { type DetailType, type PipelineEvent, pipelineEvent } from '../events/catalogue';
import type { OutboxEntry } from '../ports/outbox';
import { markUnsubscribed, suppressAddress, type UnsubscribeStore } from './unsubscribe';

/**
 * SES sending events become lead activities: delivered, opened, clicked, bounced, complained.
 * A permanent bounce or a complaint also puts the address on the suppression list and flags the
 * lead unsubscribed, so the next nurture step check stops the sequence.
 *
 * Machine opens and clicks (privacy proxies, link scanners) are recorded with
 * `data.machine = true` so the timeline and reports see them, but no `Activity Recorded` is
 * published for them, and the scoring engine ignores machine-flagged activities when it
 * re-reads the timeline, so they never earn engagement points.
 *
 * Exactly once without a bookkeeping record: the activity id derives from the SES event id, so
 * the activity's conditional write is the record of what was done, and the events it causes are
 * an outbox entry in the same transaction (published at once, or by the relay). A redelivery
 * finds the activity (`repeated`) and publishes nothing. `Activity Recorded` is published only
 * for the activity types a rule consumes (the client's engagement scoring rules, through
 * `rescore`): a plain delivery is one conditional write and no event.
 */

/** Storage (implemented by `LeadRepository`). */
export interface SesEventStore
  extends Pick<UnsubscribeStore, 'getLead' | 'saveLead' | 'isSuppressed' | 'suppress'> {
  listActivities(leadId: string): Promise<Activity[]>;
  /**
   * Records an activity of an existing lead in one conditional write (the lead must exist, the
   * activity must be new), with its outbox entry if any. @returns what it found.
   */
  recordLeadActivity(
    activity: Activity,
    outbox?: OutboxEntry,
  ): Promise<'recorded' | 'repeated' | 'lead-missing'>;
}

/** What recording needs besides storage. */
export interface SesEventDeps {
  readonly store: SesEventStore;
  /** Activity types a rule consumes (see {@link announcedActivityTypes}); the rest are only stored. */
  readonly announced: ReadonlySet<ActivityType>;
}

/**
 * The activity types whose `Activity Recorded` some rule needs: those the client's engagement
 * scoring rules count (the `rescore` rule re-scores on them). Meetings and page views, the other
 * consumed types, never come from SES.
 */
export function announcedActivityTypes(
  scoring: Pick<ClientConfig['scoring'], 'engagement'>,
): Set<ActivityType> {
  return new Set(scoring.engagement.map((rule) => rule.activity));
}

/** What recording one SES event did; `events` are published afterwards. */
export interface SesEventDecision {
  /**
   * `recorded`: a new activity; `repeated`: the activity was already there (an earlier attempt
   * got that far); `ignored`: not a lead activity (Sent, Rejected); `untagged`: no `lead_id` tag;
   * `lead-missing`: the lead was erased.
   */
  readonly outcome: 'recorded' | 'repeated' | 'ignored' | 'untagged' | 'lead-missing';
  readonly leadId?: string;
  readonly type?: ActivityType;
  readonly machine?: MachineReason;
  /** Suppression reason when the address was put on the suppression list. */
  readonly suppressed?: 'bounce' | 'complaint';
  /** Whether this event flagged the lead unsubscribed. */
  readonly unsubscribed?: boolean;
  readonly events: ReadonlyArray<PipelineEvent<DetailType>>;
  /** The outbox entry written with the change, holding `events`. */
  readonly outbox?: OutboxEntry;
}

/** Records one SES event; see the module comment. */
export async function recordSesEvent(event: SesEvent, deps: SesEventDeps): Promise<SesEventDecision> {
  const { store } = deps;
  const type = SES_ACTIVITY_TYPES[event['detail-type']];
  const taggedLeadId = messageTags(event).leadId;
  // Opens and clicks are judged against the message's earlier events (delivery time, other clicks).
  const needsHistory = taggedLeadId !== undefined && (type === 'email_opened' || type === 'email_clicked');
  const history = needsHistory
    ? messageHistory(await store.listActivities(taggedLeadId), event.detail.mail.messageId)
    : { clicks: [] };
  const meaning = interpretSesEvent(event, history);

  // The address first: even without a lead (erased, untagged) it must never be mailed again.
  const at = meaning.activity?.at ?? new Date(Date.parse(event.time)).toISOString();
  if (meaning.suppress) {
    for (const address of new Set(meaning.suppress.addresses)) {
      await suppressAddress(store, address, meaning.suppress.reason, at);
    }
  }
  const suppressed = meaning.suppress ? { suppressed: meaning.suppress.reason } : {};
  if (!meaning.leadId) return { outcome: 'untagged', ...suppressed, events: [] };
  const leadId = meaning.leadId;
  if (!meaning.activity) return { outcome: 'ignored', leadId, events: [] };
  const machine = meaning.machine ? { machine: meaning.machine } : {};
  const announce = !meaning.machine && deps.announced.has(meaning.activity.type);
  if (!meaning.suppress && !announce) {
    // Nothing to publish, so the lead need not be read: one conditional write.
    const activity: Activity = { ...meaning.activity, leadId };
    const outcome = await store.recordLeadActivity(activity);
    if (outcome === 'lead-missing') return { outcome, leadId, events: [] };
    return { outcome, leadId, type: activity.type, ...machine, unsubscribed: false, events: [] };
  }
  const lead: Lead | undefined = await store.getLead(leadId);
  if (!lead) return { outcome: 'lead-missing', leadId, ...suppressed, events: [] };

  const activity: Activity = { ...meaning.activity, leadId };
  const envelope = { leadId, occurredAt: activity.at, isTest: lead.isTest };
  const recorded = announce
    ? [pipelineEvent('Activity Recorded', { ...envelope, activityId: activity.id, type: activity.type })]
    : [];
  const entry = (events: PipelineEvent<DetailType>[]): OutboxEntry | undefined =>
    events.length > 0 ? { id: activity.id, at: new Date().toISOString(), events } : undefined;
  const result = { leadId, type: activity.type, ...machine, ...suppressed };

  if (meaning.suppress) {
    // The flag, the activity and the announcement in the lead's one transaction.
    const events = [
      ...recorded,
      pipelineEvent('Lead Unsubscribed', { ...envelope, via: meaning.suppress.reason }),
    ];
    const outbox = entry(events);
    const reason = meaning.suppress.reason;
    const marked = await markUnsubscribed(store, leadId, {
      at,
      via: reason,
      withdrawConsent: reason === 'complaint',
      activity,
      ...(outbox ? { outbox } : {}),
    });
    if (marked.changed)
      return { outcome: 'recorded', ...result, unsubscribed: true, events, ...(outbox ? { outbox } : {}) };
    if (!marked.lead) return { outcome: 'lead-missing', leadId, ...suppressed, events: [] };
  }
  // Already unsubscribed (this event's earlier delivery, or another way), or nothing to flag.
  const outbox = entry(recorded);
  const outcome = await store.recordLeadActivity(activity, outbox);
  if (outcome === 'lead-missing') return { outcome, leadId, ...suppressed, events: [] };
  const fresh = outcome === 'recorded';
  return {
    outcome,
    ...result,
    unsubscribed: false,
    // A repeat finds its own write: its events went out then, or the relay has them.
    events: fresh ? recorded : [],
    ...(fresh && outbox ? { outbox } : {}),
  };
}
