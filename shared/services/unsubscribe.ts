import { randomUUID } from 'node:crypto';
import { canonicalEmail } from '../domain/email';
import { LeadChangedError } from '../domain/errors';
import type { Activity, Lead } from '../domain/lead';
import { emailHash } from '../domain/tokens';
import { type DetailType, type EventDetail, type PipelineEvent, pipelineEvent } from '../events/catalogue';
import type { SaveLeadOptions } from '../ports/lead-store';
import type { OutboxEntry } from '../ports/outbox';
import { announce } from './announce';

/**
 * Unsubscribing a lead: the one place that turns "this person wants no more email" (a link, a
 * mailbox provider's one-click POST, a complaint, a hard bounce) into state: the hashed address
 * on the suppression list first (so even a lead erased later stays suppressed, and nurture stops
 * at its next step check), then `lead.unsubscribed` (and withdrawn marketing consent).
 */

/** How a lead unsubscribed (the `Lead Unsubscribed` `via`). */
export type UnsubscribeVia = EventDetail<'Lead Unsubscribed'>['via'];

/** Storage for unsubscribing (implemented by `LeadRepository`). */
export interface UnsubscribeStore {
  getLead(leadId: string): Promise<Lead | undefined>;
  saveLead(previous: Lead, next: Lead, options?: SaveLeadOptions): Promise<Lead>;
  isSuppressed(emailHash: string): Promise<boolean>;
  suppress(emailHash: string, reason: string, at: string): Promise<void>;
  listActivities(leadId: string): Promise<Activity[]>;
  markActivityAnnounced(leadId: string, at: string, activityId: string): Promise<void>;
  clearOutbox(entry: Pick<OutboxEntry, 'id' | 'at'>): Promise<void>;
  getOutboxEntry(entry: Pick<OutboxEntry, 'id' | 'at'>): Promise<OutboxEntry | undefined>;
}

/** Publishes catalogue events (implemented by `EventPublisher`). */
export interface UnsubscribePublisher {
  publish(...events: ReadonlyArray<PipelineEvent<DetailType>>): Promise<void>;
}

/** Reads of a lead that lost a write race before giving up (each attempt re-reads). */
const MAX_WRITE_ATTEMPTS = 4;

/** The suppression-list hash of an address. */
export function suppressionKey(address: string): string {
  return emailHash(canonicalEmail(address));
}

/**
 * Puts an address on the suppression list unless it is there already: the first reason (a
 * complaint, say) is kept rather than overwritten by a later unsubscribe click.
 */
export async function suppressAddress(
  store: Pick<UnsubscribeStore, 'isSuppressed' | 'suppress'>,
  address: string,
  reason: 'unsubscribe' | 'bounce' | 'complaint',
  at: string,
): Promise<void> {
  const key = suppressionKey(address);
  if (!(await store.isSuppressed(key))) await store.suppress(key, reason, at);
}

/** The lead after unsubscribing: flagged, and (when asked) marketing consent withdrawn. */
export function unsubscribedLead(
  lead: Lead,
  change: { at: string; via: UnsubscribeVia; withdrawConsent: boolean },
): Lead {
  return {
    ...lead,
    unsubscribed: true,
    updatedAt: change.at,
    ...(change.withdrawConsent
      ? { consent: { marketing: false, at: change.at, via: `unsubscribe:${change.via}` } }
      : {}),
  };
}

/**
 * Flags the lead unsubscribed (optionally saving `activity` in the same transaction), re-reading
 * on a concurrent write. Idempotent: a lead already unsubscribed is left as it is.
 * @returns the lead as stored and whether this call changed it; `lead` is undefined when the
 * lead does not exist (erased).
 */
export async function markUnsubscribed(
  store: Pick<UnsubscribeStore, 'getLead' | 'saveLead'>,
  leadId: string,
  change: {
    at: string;
    via: UnsubscribeVia;
    withdrawConsent: boolean;
    activity?: Activity;
    /** The events announcing the change, stored in the same transaction. */
    outbox?: OutboxEntry;
  },
): Promise<{ lead?: Lead; changed: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const lead = await store.getLead(leadId);
    if (!lead) return { changed: false };
    if (lead.unsubscribed) return { lead, changed: false };
    try {
      const saved = await store.saveLead(lead, unsubscribedLead(lead, change), {
        ...(change.activity ? { activities: [change.activity] } : {}),
        ...(change.outbox ? { outbox: change.outbox } : {}),
      });
      return { lead: saved, changed: true };
    } catch (error) {
      if (error instanceof LeadChangedError && attempt < MAX_WRITE_ATTEMPTS) continue;
      throw error;
    }
  }
}

/** What {@link unsubscribeByLink} did. */
export interface UnsubscribeResult {
  /** `unknown-lead`: a valid token for a lead that no longer exists (erased); nothing to do. */
  readonly outcome: 'unsubscribed' | 'already-unsubscribed' | 'unknown-lead';
  /** Whether this call published `Lead Unsubscribed` (an earlier unannounced unsubscribe counts). */
  readonly announced: boolean;
}

/**
 * The person asked to unsubscribe (verified link or one-click POST). Suppresses the address,
 * flags the lead and records an `unsubscribed` activity in the same write, then publishes
 * `Lead Unsubscribed` and `Activity Recorded` (scoring reacts). The activity is the outbox: it
 * is saved with `data.announced = false` and marked once the events are on the bus, so a retry
 * after a failed publish announces it, and a repeat visit (already unsubscribed, announced)
 * publishes nothing.
 */
export async function unsubscribeByLink(
  leadId: string,
  via: Extract<UnsubscribeVia, 'link' | 'one-click'>,
  deps: {
    readonly store: UnsubscribeStore;
    readonly publisher: UnsubscribePublisher;
    readonly now: () => Date;
    readonly newId?: () => string;
  },
): Promise<UnsubscribeResult> {
  const { store } = deps;
  const at = deps.now().toISOString();
  const lead = await store.getLead(leadId);
  if (!lead) return { outcome: 'unknown-lead', announced: false };
  if (lead.profile.email) await suppressAddress(store, lead.profile.email, 'unsubscribe', at);

  const activity: Activity = {
    id: (deps.newId ?? randomUUID)(),
    leadId,
    type: 'unsubscribed',
    at,
    data: { via, announced: false },
  };
  // The events are stored with the change (the outbox): a bus that refuses now leaves them for
  // the relay, so the person's unsubscribe is confirmed and announced either way.
  const outbox: OutboxEntry = {
    id: activity.id,
    at,
    events: unsubscribeEvents(leadId, activity, lead.isTest),
  };
  const marked = await markUnsubscribed(store, leadId, { at, via, withdrawConsent: true, activity, outbox });
  if (!marked.lead) return { outcome: 'unknown-lead', announced: false };
  if (marked.changed) {
    const result = await announce(outbox, {
      publisher: deps.publisher,
      outbox: { clear: (entry) => store.clearOutbox(entry) },
    });
    if (result.published) await store.markActivityAnnounced(leadId, at, activity.id);
    return { outcome: 'unsubscribed', announced: result.published };
  }

  // Already unsubscribed: announce only an earlier unsubscribe whose events never went out (its
  // outbox entry, if the relay has not published it yet; else, stored before the outbox, its
  // events derived again). A refusing bus is thrown here: nothing new was stored.
  const pending = await latestUnannounced(store, leadId);
  if (!pending) return { outcome: 'already-unsubscribed', announced: false };
  const waiting = await store.getOutboxEntry({ id: pending.id, at: pending.at });
  await deps.publisher.publish(
    ...(waiting?.events ?? unsubscribeEvents(leadId, pending, marked.lead.isTest)),
  );
  if (waiting) await store.clearOutbox(waiting);
  await store.markActivityAnnounced(leadId, pending.at, pending.id);
  return { outcome: 'already-unsubscribed', announced: true };
}

/** `Lead Unsubscribed` and `Activity Recorded` for an `unsubscribed` activity. */
function unsubscribeEvents(leadId: string, activity: Activity, isTest: boolean): PipelineEvent<DetailType>[] {
  return [
    pipelineEvent('Lead Unsubscribed', {
      leadId,
      occurredAt: activity.at,
      isTest,
      via: activity.data.via === 'one-click' ? 'one-click' : 'link',
    }),
    pipelineEvent('Activity Recorded', {
      leadId,
      occurredAt: activity.at,
      isTest,
      activityId: activity.id,
      type: 'unsubscribed',
    }),
  ];
}

/** The lead's latest `unsubscribed` activity if its events were never published. */
async function latestUnannounced(store: UnsubscribeStore, leadId: string): Promise<Activity | undefined> {
  const latest = (await store.listActivities(leadId))
    .filter((a) => a.type === 'unsubscribed')
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
    .at(-1);
  return latest && latest.data.announced === false ? latest : undefined;
}
