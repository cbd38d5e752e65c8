import type { ClientConfig, EmailTemplate } from '../config/schema';
import { canonicalEmail } from '../domain/email';
import {
  type EmailKind,
  emailTags,
  formatMailbox,
  listUnsubscribeHeaders,
  renderLeadEmail,
  unsubscribeUrl,
} from '../domain/email-render';
import { DependencyUnavailableError, StepAlreadySentError } from '../domain/errors';
import type { Lead } from '../domain/lead';
import { signToken } from '../domain/tokens';
import type { DeliveryFailure } from '../ports/delivery';
import type { IntegrationsSecretReader } from '../ports/integrations-secret';
import {
  EmailNotSentError,
  EmailOutcomeUnknownError,
  type Mailer,
  type OutgoingEmail,
} from '../ports/mailer';

/**
 * Emails to leads, sent at most once per lead and step: the shared core of the nurture and
 * auto-respond functions.
 *
 * Delivery semantics: at-most-once. A step is claimed (a conditional put of
 * `SEND#<sequence>#<step>` in the lead's partition) BEFORE SES is called, so a retried task,
 * a redelivered event or a concurrent duplicate finds the claim and does not send. Then:
 *
 * - SES accepted → the claim records the message id (`status: sent`).
 * - SES answered with an error (throttled, paused, rejected) → the email certainly did not go
 *   out, so the claim is released and a retry may send it (at-least-once for refusals).
 * - No answer (timeout, connection reset) → SES may have sent it. The claim stays, marked
 *   `unconfirmed`, and the step counts as sent: a lead may miss one email, never get two.
 * - The function dies between claim and answer → same as "no answer": the claim has no message
 *   id and a retry treats the step as sent.
 *
 * The trade-off is deliberate: a duplicate marketing email costs trust and complaints; a
 * missed nurture step costs one touch of many.
 */

/** Storage for send claims (implemented by `LeadRepository`). */
export interface SendClaimStore {
  claimSend(
    leadId: string,
    sequenceId: string,
    stepId: string,
    at: string,
    extra?: SendClaimExtra,
  ): Promise<void>;
  recordSendResult(leadId: string, sequenceId: string, stepId: string, result: SendResult): Promise<void>;
  releaseSendClaim(leadId: string, sequenceId: string, stepId: string): Promise<void>;
}

/** How a claimed send ended: SES's message id, or no answer (it may or may not have gone out). */
export type SendResult =
  | { readonly status: 'sent'; readonly messageId: string; readonly at: string }
  | { readonly status: 'unconfirmed'; readonly error: string; readonly at: string };

/** What a send record keeps besides its key, for the nurture report. */
export interface SendClaimExtra {
  /** `sms` for a text message; email when absent. */
  readonly channel?: 'email' | 'sms';
  /** The branch (`<sequence>/<step>/<branch>`) that led the lead to this step, if one did. */
  readonly via?: string;
}

/** One email to send once. */
export interface SendOnceRequest extends SendClaimExtra {
  readonly leadId: string;
  /** Nurture sequence id, or `auto-response`. */
  readonly sequenceId: string;
  /** Step id, or `ack` for the auto-response. */
  readonly stepId: string;
  readonly email: OutgoingEmail;
  /** ISO time of the attempt. */
  readonly at: string;
}

/** What happened to a {@link SendOnceRequest}. */
export type SendOnceResult =
  /** Sent now. `recorded` is false when the message id could not be stored (the claim still blocks a resend). */
  | { readonly status: 'sent'; readonly messageId: string; readonly recorded: boolean }
  /** An earlier attempt claimed the step: sent, in doubt, or in flight. Nothing was sent now. */
  | { readonly status: 'already-claimed' }
  /** The provider gave no answer; the step counts as sent and will not be retried. */
  | { readonly status: 'unconfirmed'; readonly error: string }
  /** The provider refused this message for good; the claim was released. */
  | { readonly status: 'refused'; readonly sesError: string };

/**
 * Claims `request`'s step, delivers with `deliver` and records the outcome (see the module
 * notes): the one at-most-once path for every channel.
 */
export async function deliverOnce(
  request: Omit<SendOnceRequest, 'email'>,
  store: SendClaimStore,
  deliver: () => Promise<{ messageId: string }>,
  classify: (error: unknown) => DeliveryFailure,
): Promise<SendOnceResult> {
  const { leadId, sequenceId, stepId, at } = request;
  const extra: SendClaimExtra = {
    ...(request.channel ? { channel: request.channel } : {}),
    ...(request.via ? { via: request.via } : {}),
  };
  try {
    if (Object.keys(extra).length > 0) await store.claimSend(leadId, sequenceId, stepId, at, extra);
    else await store.claimSend(leadId, sequenceId, stepId, at);
  } catch (error) {
    if (error instanceof StepAlreadySentError) return { status: 'already-claimed' };
    throw error;
  }
  let messageId: string;
  try {
    ({ messageId } = await deliver());
  } catch (error) {
    const failure = classify(error);
    if (failure?.kind === 'unknown') {
      // Keep the claim: sending again could deliver a second copy. Marking it is bookkeeping only.
      await store
        .recordSendResult(leadId, sequenceId, stepId, { status: 'unconfirmed', error: failure.message, at })
        .catch(() => undefined);
      return { status: 'unconfirmed', error: failure.message };
    }
    if (failure?.kind === 'not-sent') {
      // Certainly not sent: free the step for a retry. If the release itself fails, the claim
      // stays and the step is skipped (at-most-once), which is the safe side.
      await store.releaseSendClaim(leadId, sequenceId, stepId);
      if (!failure.retryable) return { status: 'refused', sesError: failure.code };
    }
    throw error;
  }
  try {
    await store.recordSendResult(leadId, sequenceId, stepId, { status: 'sent', messageId, at });
    return { status: 'sent', messageId, recorded: true };
  } catch {
    // The message is out; the claim (without its message id) still prevents a second one.
    return { status: 'sent', messageId, recorded: false };
  }
}

/**
 * Sends `request.email` unless the step was already claimed for the lead.
 * @throws EmailNotSentError (retryable) when SES refused for now (throttling, quota, paused):
 *   the claim was released, so retrying later sends the email.
 * @throws DependencyUnavailableError when DynamoDB is unavailable before anything was sent.
 */
export function sendOnce(
  request: SendOnceRequest,
  deps: { readonly store: SendClaimStore; readonly mailer: Mailer },
): Promise<SendOnceResult> {
  return deliverOnce(
    request,
    deps.store,
    () => deps.mailer.send(request.email),
    (error) => {
      if (error instanceof EmailOutcomeUnknownError) return { kind: 'unknown', message: error.message };
      if (error instanceof EmailNotSentError)
        return { kind: 'not-sent', retryable: error.retryable, code: error.sesError };
      return undefined;
    },
  );
}

/** What {@link composeLeadEmail} needs besides the lead and template. */
export interface ComposeContext {
  readonly config: Pick<ClientConfig, 'email'>;
  /** Public API base URL (`API_URL`), for the unsubscribe link. */
  readonly apiUrl: string;
  /** HMAC key of the integrations secret (`signingKey`). */
  readonly signingKey: string;
  readonly now: Date;
  readonly kind: EmailKind;
  readonly sequenceId: string;
  readonly stepId: string;
}

/**
 * The email `template` becomes for `lead`: personalised, with the postal address and a signed
 * one-click unsubscribe link (never expiring) in the footer and the List-Unsubscribe headers.
 * @throws Error when the lead has no email address (check before calling).
 */
export function composeLeadEmail(
  lead: Lead,
  template: EmailTemplate,
  context: ComposeContext,
): OutgoingEmail {
  if (!lead.profile.email) throw new Error(`Lead ${lead.id} has no email address`);
  const { email } = context.config;
  const url = unsubscribeUrl(
    context.apiUrl,
    signToken('unsubscribe', lead.id, context.signingKey, context.now),
  );
  const rendered = renderLeadEmail(template, lead, {
    senderName: email.fromName,
    postalAddress: email.postalAddress,
    unsubscribeUrl: url,
  });
  return {
    to: canonicalEmail(lead.profile.email),
    from: formatMailbox(email.fromName, email.from),
    ...(email.replyTo ? { replyTo: [email.replyTo] } : {}),
    ...rendered,
    headers: listUnsubscribeHeaders(url),
    tags: emailTags({
      leadId: lead.id,
      sequenceId: context.sequenceId,
      stepId: context.stepId,
      kind: context.kind,
    }),
  };
}

/**
 * The HMAC key for unsubscribe tokens. Powertools wraps Secrets Manager failures in its own
 * error type; any failure to read the secret is reported as {@link DependencyUnavailableError}
 * so callers retry (or answer 503) instead of failing for good.
 */
export async function readSigningKey(secrets: IntegrationsSecretReader): Promise<string> {
  try {
    return (await secrets.read()).signingKey;
  } catch (error) {
    throw new DependencyUnavailableError('SecretsManager', error);
  }
}

/** The adapters of a function that emails leads (auto-respond, nurture); tests inject fakes. */
export interface LeadMailAdapters<Store, Config> {
  readonly repository: Store;
  readonly mailer: Mailer;
  readonly secrets: IntegrationsSecretReader;
  readonly config: Config;
  /** Public API base URL (`API_URL`), for unsubscribe links. */
  readonly apiUrl: string;
  readonly now: () => Date;
}

/** A lead-emailing function's adapters as the services take them: the signing key read when a send needs it. */
export function leadMailServiceDeps<Store, Config>(adapters: LeadMailAdapters<Store, Config>) {
  return {
    store: adapters.repository,
    mailer: adapters.mailer,
    signingKey: () => readSigningKey(adapters.secrets),
    config: adapters.config,
    apiUrl: adapters.apiUrl,
    now: adapters.now,
  };
}

export type { DeliveryFailure } from '../ports/delivery';
