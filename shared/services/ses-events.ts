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
 * This is the `decide` half of `decideThenPublish` (see `adapters/idempotent-steps.ts`): it
 * changes state and returns the events to publish; every write is idempotent against its own
 * earlier attempt (the activity id derives from the SES event id).
 */

/** Storage (implemented by `LeadRepository`). */
export interface SesEventStore
  extends Pick<UnsubscribeStore, 'getLead' | 'saveLead' | 'isSuppressed' | 'suppress'> {
  listActivities(leadId: string): Promise<Activity[]>;
  addActivities(activities: readonly Activity[]): Promise<Activity[]>;
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
}

/** Records one SES event; see the module comment. */
export async function recordSesEvent(
  event: SesEvent,
  deps: { readonly store: SesEventStore },
): Promise<SesEventDecision> {
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
  const lead: Lead | undefined = await store.getLead(leadId);
  if (!lead) return { outcome: 'lead-missing', leadId, ...suppressed, events: [] };

  const activity: Activity = { ...meaning.activity, leadId };
  const isNew = (await store.addActivities([activity])).length > 0;
  let unsubscribed = false;
  if (meaning.suppress) {
    const reason = meaning.suppress.reason;
    const marked = await markUnsubscribed(store, leadId, {
      at,
      via: reason,
      withdrawConsent: reason === 'complaint',
    });
    unsubscribed = marked.changed;
  }

  const events: PipelineEvent<DetailType>[] = [];
  const envelope = { leadId, occurredAt: activity.at, isTest: lead.isTest };
  if (!meaning.machine) {
    events.push(
      pipelineEvent('Activity Recorded', { ...envelope, activityId: activity.id, type: activity.type }),
    );
  }
  // `!isNew`: an earlier attempt of this same event stopped after its writes, before its
  // decision was stored, so it may have been the one that unsubscribed the lead.
  if (meaning.suppress && (unsubscribed || !isNew)) {
    events.push(pipelineEvent('Lead Unsubscribed', { ...envelope, via: meaning.suppress.reason }));
  }
  return {
    outcome: isNew ? 'recorded' : 'repeated',
    leadId,
    type: activity.type,
    ...(meaning.machine ? { machine: meaning.machine } : {}),
    ...suppressed,
    unsubscribed,
    events,
  };
}
