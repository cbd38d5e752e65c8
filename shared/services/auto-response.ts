import type { ClientConfig, EmailTemplate } from '../config/schema';
import { canonicalEmail, emailDedupeKey } from '../domain/email';
import { StepAlreadySentError } from '../domain/errors';
import type { Lead } from '../domain/lead';
import { emailHash } from '../domain/tokens';
import type { Mailer } from '../ports/mailer';
import { composeLeadEmail, type SendClaimStore, sendOnce } from './lead-email';

/** The send-result half of the store, bound (the claim is replaced by the auto-response's own). */
function storeMethods(store: SendClaimStore): SendClaimStore {
  return {
    claimSend: store.claimSend.bind(store),
    recordSendResult: store.recordSendResult.bind(store),
    releaseSendClaim: store.releaseSendClaim.bind(store),
  };
}

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

/** The auto-response's send claim: the send, and the keys of its suppression and daily checks. */
export interface AutoResponseClaim {
  readonly leadId: string;
  readonly sequenceId: string;
  readonly stepId: string;
  readonly at: string;
  readonly suppressionHash: string;
  readonly addressHash: string;
  readonly day: string;
  readonly expiresAt: number;
}

/** `claimed`, or why the auto-response is not sent. */
export type AutoResponseClaimOutcome = 'claimed' | 'already-sent' | 'suppressed' | 'address-mailed-today';

/** Storage (implemented by `LeadRepository`). */
export interface AutoResponseStore extends SendClaimStore {
  getLead(leadId: string): Promise<Lead | undefined>;
  /**
   * Claims the send in one conditional write, checking that the address is not suppressed and
   * was not auto-answered today for another lead. @returns `claimed` or why not to send.
   */
  claimAutoResponse(claim: AutoResponseClaim): Promise<AutoResponseClaimOutcome>;
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

  const now = deps.now();
  const { name, template } = chooseTemplate(deps.config.autoResponse.templates, lead.source);
  const email = composeLeadEmail(lead, template, {
    config: deps.config,
    apiUrl: deps.apiUrl,
    signingKey: await deps.signingKey(),
    now,
    kind: 'auto-response',
    ...AUTO_RESPONSE,
  });
  const address = lead.profile.email;
  // The send's claim also checks the suppression list and the address's daily limit: one write.
  let blocked: AutoResponseSkip | undefined;
  const claimOnce: SendClaimStore['claimSend'] = async (leadId, sequenceId, stepId, at) => {
    const claimed = await deps.store.claimAutoResponse({
      leadId,
      sequenceId,
      stepId,
      at,
      suppressionHash: emailHash(canonicalEmail(address)),
      addressHash: emailHash(emailDedupeKey(address)),
      day: now.toISOString().slice(0, 10),
      expiresAt: Math.floor(now.getTime() / 1000) + 2 * 86_400,
    });
    if (claimed === 'already-sent') throw new StepAlreadySentError(leadId, `${sequenceId}/${stepId}`);
    if (claimed !== 'claimed') {
      blocked = claimed;
      throw new StepAlreadySentError(leadId, `${sequenceId}/${stepId}`);
    }
  };
  const result = await sendOnce(
    { leadId: lead.id, ...AUTO_RESPONSE, email, at: now.toISOString() },
    { store: { ...storeMethods(deps.store), claimSend: claimOnce }, mailer: deps.mailer },
  );
  if (blocked) return skip(blocked);
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
