import type { ClientConfig, EmailTemplate } from '../config/schema';
import { canonicalEmail, emailDedupeKey } from '../domain/email';
import type { Lead } from '../domain/lead';
import { emailHash } from '../domain/tokens';
import type { Mailer } from '../ports/mailer';
import { composeLeadEmail, type SendClaimStore, sendOnce } from './lead-email';

/**
 * The auto-response: an immediate acknowledgement to every new, real lead with an address.
 * It answers the person's own request (transactional), so the consent mode does not apply;
 * the suppression list (which holds every address that bounced or complained) and an unsubscribe
 * do. Sent at most once per lead, ever: the send is claimed as step `ack` of the pseudo-sequence
 * `auto-response` (see `lead-email.ts`). And at most once per address per day, whichever lead it
 * is for: the public forms would otherwise let anyone mail any address from the client's domain
 * as often as they post. That limit is one conditional write per send, keyed by the address's
 * dedupe key (so `+tags` and Gmail dots count as one address), never a scan.
 */

/** Claim key of the auto-response in the lead's sends. */
export const AUTO_RESPONSE = { sequenceId: 'auto-response', stepId: 'ack' } as const;

/** Storage (implemented by `LeadRepository`). */
export interface AutoResponseStore extends SendClaimStore {
  getLead(leadId: string): Promise<Lead | undefined>;
  isSuppressed(emailHash: string): Promise<boolean>;
  claimAutoResponseDay(addressHash: string, day: string, leadId: string, expiresAt: number): Promise<boolean>;
}

export interface AutoResponseDeps {
  readonly store: AutoResponseStore;
  readonly mailer: Mailer;
  readonly signingKey: () => Promise<string>;
  readonly config: Pick<ClientConfig, 'autoResponse' | 'email'>;
  readonly apiUrl: string;
  readonly now: () => Date;
}

/** Why no auto-response went out. */
export type AutoResponseSkip =
  | 'disabled'
  | 'test-lead'
  | 'pending'
  | 'lead-missing'
  | 'no-email'
  | 'unsubscribed'
  | 'suppressed'
  | 'address-mailed-today'
  | 'already-sent'
  | 'refused';

export type AutoResponseResult =
  | {
      readonly outcome: 'sent';
      readonly template: string;
      readonly messageId?: string;
      readonly confirmed: boolean;
    }
  | { readonly outcome: 'skipped'; readonly reason: AutoResponseSkip };

/**
 * The template for a lead: the one named after its provider (`google_ads`, `meta`, `form`...),
 * else after its channel, else `default`.
 */
export function chooseTemplate(
  templates: ClientConfig['autoResponse']['templates'],
  source: Pick<Lead['source'], 'provider' | 'channel'>,
): { name: string; template: EmailTemplate } {
  for (const name of [source.provider, source.channel]) {
    const template = Object.hasOwn(templates, name) ? templates[name] : undefined;
    if (template) return { name, template };
  }
  const fallback = templates.default;
  if (!fallback) throw new Error('autoResponse.templates has no "default" template');
  return { name: 'default', template: fallback };
}

/**
 * Sends the auto-response to `leadId` unless a rule says not to.
 * @throws EmailNotSentError (retryable) / DependencyUnavailableError on transient failures;
 *   nothing was sent, so the event may be retried.
 */
export async function autoRespond(
  captured: { leadId: string; isTest: boolean; pending: boolean },
  deps: AutoResponseDeps,
): Promise<AutoResponseResult> {
  const skip = (reason: AutoResponseSkip): AutoResponseResult => ({ outcome: 'skipped', reason });
  if (!deps.config.autoResponse.enabled) return skip('disabled');
  if (captured.isTest) return skip('test-lead');
  if (captured.pending) return skip('pending');
  const lead = await deps.store.getLead(captured.leadId);
  if (!lead) return skip('lead-missing');
  if (lead.isTest) return skip('test-lead');
  if (!lead.profile.email) return skip('no-email');
  if (lead.unsubscribed) return skip('unsubscribed');
  if (await deps.store.isSuppressed(emailHash(canonicalEmail(lead.profile.email)))) return skip('suppressed');

  const now = deps.now();
  const addressHash = emailHash(emailDedupeKey(lead.profile.email));
  const expiresAt = Math.floor(now.getTime() / 1000) + 2 * 86_400;
  if (
    !(await deps.store.claimAutoResponseDay(addressHash, now.toISOString().slice(0, 10), lead.id, expiresAt))
  )
    return skip('address-mailed-today');

  const { name, template } = chooseTemplate(deps.config.autoResponse.templates, lead.source);
  const email = composeLeadEmail(lead, template, {
    config: deps.config,
    apiUrl: deps.apiUrl,
    signingKey: await deps.signingKey(),
    now,
    kind: 'auto-response',
    ...AUTO_RESPONSE,
  });
  const result = await sendOnce(
    { leadId: lead.id, ...AUTO_RESPONSE, email, at: now.toISOString() },
    { store: deps.store, mailer: deps.mailer },
  );
  switch (result.status) {
    case 'sent':
      return { outcome: 'sent', template: name, messageId: result.messageId, confirmed: true };
    case 'unconfirmed':
      return { outcome: 'sent', template: name, confirmed: false };
    case 'already-claimed':
      return skip('already-sent');
    case 'refused':
      return skip('refused');
  }
}
