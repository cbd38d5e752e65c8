import type { ClientConfig, Rep } from '../config/schema';
import type { Lead } from './lead';
import { signToken, tokenExpiry, verifyToken } from './tokens';

/**
 * Instant booking: a form lead that scoring made sales-ready (SQL) and routing gave to a rep with
 * a scheduling page (`reps[].bookingUrl`) is offered that page on the thank-you page, with the
 * name and email they typed already filled in. The visitor's browser reaches the offer through a
 * signed, short-lived "next step" URL that capture hands out, because scoring and routing finish
 * after capture has answered. Pure: the status function, capture, the alert and the reports all
 * decide from here.
 */

/** Scheduling tools whose links this module knows how to prefill and whose webhooks it reads. */
export type SchedulingTool = 'calendly' | 'calcom' | 'other';

/**
 * What marks a booking made from the instant offer, so the booking webhook can tell it from one a
 * rep's own outreach produced: Calendly returns it in `tracking.utm_source`, Cal.com in
 * `metadata.lp_offer`.
 */
export const INSTANT_OFFER_MARKER = 'instant-offer';
/** Cal.com metadata key carrying {@link INSTANT_OFFER_MARKER} (`metadata[lp_offer]=…` in the link). */
export const CALCOM_OFFER_METADATA_KEY = 'lp_offer';

/** How long the next-step URL answers at all (the visitor may reload the thank-you page). */
export const NEXT_STEP_TTL_SECONDS = 30 * 60;
/**
 * How long after capture answered the thank-you page keeps waiting for scoring and routing before
 * it shows the normal thanks: a few seconds, so a visitor is never left looking at a spinner.
 */
export const NEXT_STEP_WAIT_SECONDS = 6;
/** How often a waiting page or caller asks again. */
export const NEXT_STEP_POLL_MS = 700;

/** Which tool a scheduling link belongs to, by its host. */
export function schedulingTool(bookingUrl: string): SchedulingTool {
  const host = new URL(bookingUrl).hostname.toLowerCase();
  if (host === 'calendly.com' || host.endsWith('.calendly.com')) return 'calendly';
  if (host === 'cal.com' || host.endsWith('.cal.com')) return 'calcom';
  return 'other';
}

/** The person to prefill: only what the visitor typed themselves. */
export interface BookingInvitee {
  readonly name?: string;
  readonly email?: string;
}

/**
 * The rep's scheduling link with the visitor's name and email filled in and the instant-offer
 * marker added: Calendly and Cal.com both read `name` and `email` from the query; Calendly keeps
 * `utm_source` for its webhook's `tracking`, Cal.com passes `metadata[...]` to its webhook's
 * `metadata`. Any other scheduling page gets its link unchanged (we do not know its parameters,
 * and an unknown parameter could break it).
 */
export function prefilledBookingLink(bookingUrl: string, invitee: BookingInvitee): string {
  const tool = schedulingTool(bookingUrl);
  if (tool === 'other') return bookingUrl;
  const url = new URL(bookingUrl);
  if (invitee.name) url.searchParams.set('name', invitee.name);
  if (invitee.email) url.searchParams.set('email', invitee.email);
  if (tool === 'calendly') url.searchParams.set('utm_source', INSTANT_OFFER_MARKER);
  else url.searchParams.set(`metadata[${CALCOM_OFFER_METADATA_KEY}]`, INSTANT_OFFER_MARKER);
  return url.href;
}

/** The rep a lead would be offered a booking with, if any: its owner, when they have a scheduling page. */
function bookingRep(
  lead: Pick<Lead, 'owner'>,
  config: Pick<ClientConfig, 'reps'>,
): (Rep & { bookingUrl: string }) | undefined {
  const rep = config.reps.find((r) => r.id === lead.owner);
  return rep?.bookingUrl ? (rep as Rep & { bookingUrl: string }) : undefined;
}

/** Lead sources that are a visitor on a page of ours right now (the capture endpoint). */
const FORM_PROVIDERS: ReadonlySet<string> = new Set(['form', 'api']);

/**
 * Whether a lead earns the instant booking offer: it came through a form (the visitor is on the
 * thank-you page), scoring made it SQL, and routing gave it to a rep with a scheduling page.
 * The alert and the report use this same rule, so they never disagree with the page.
 */
export function earnsBookingOffer(
  lead: Pick<Lead, 'owner' | 'stage' | 'source' | 'status'>,
  config: Pick<ClientConfig, 'reps'>,
): boolean {
  return (
    FORM_PROVIDERS.has(lead.source.provider) &&
    lead.stage === 'SQL' &&
    lead.status !== 'disqualified' &&
    bookingRep(lead, config) !== undefined
  );
}

/** The offer shown to the visitor. */
export interface BookingOffer {
  /** The rep's display name ("Ana Schmidt"). */
  readonly repName: string;
  /** "Book a time with Ana Schmidt". */
  readonly label: string;
  /** The scheduling link, prefilled (see {@link prefilledBookingLink}). */
  readonly bookingUrl: string;
  readonly tool: SchedulingTool;
}

/** The offer for a lead, or `undefined` when it does not earn one. */
export function bookingOffer(
  lead: Pick<Lead, 'owner' | 'stage' | 'source' | 'status' | 'profile'>,
  config: ClientConfig,
): BookingOffer | undefined {
  const rep = bookingRep(lead, config);
  if (!rep || !earnsBookingOffer(lead, config)) return undefined;
  const name = [lead.profile.firstName, lead.profile.lastName].filter(Boolean).join(' ');
  return {
    repName: rep.name,
    label: `Book a time with ${rep.name}`,
    bookingUrl: prefilledBookingLink(rep.bookingUrl, {
      ...(name ? { name } : {}),
      ...(lead.profile.email ? { email: lead.profile.email } : {}),
    }),
    tool: schedulingTool(rep.bookingUrl),
  };
}

// ------------------------------------------------------------------------------------ next step

/**
 * What the thank-you page shows next: `pending` while scoring and routing are still running and
 * the wait has not run out, then `offer` or `thanks` (the normal thank-you).
 */
export type NextStep =
  | { readonly state: 'pending'; readonly retryAfterMs: number; readonly firstName?: string }
  | { readonly state: 'offer'; readonly offer: BookingOffer; readonly firstName?: string }
  | { readonly state: 'thanks'; readonly firstName?: string };

/** Routing has decided something about the lead (assigned, held, nurtured...). */
function routed(lead: Pick<Lead, 'status'>): boolean {
  return lead.status !== 'new' && lead.status !== 'pending';
}

/**
 * The next step for a lead: the offer as soon as the lead earns it; `pending` while routing has
 * not decided and `waitUntil` has not passed; else the normal thanks. An unknown lead (the token
 * is a bot's decoy, or the lead was erased) is thanked like anyone else.
 */
export function nextStep(
  lead: Pick<Lead, 'owner' | 'stage' | 'source' | 'status' | 'profile'> | undefined,
  config: ClientConfig,
  now: Date,
  waitUntil: Date,
): NextStep {
  const firstName = lead?.profile.firstName;
  const named = firstName ? { firstName } : {};
  if (!lead) return { state: 'thanks' };
  const offer = bookingOffer(lead, config);
  if (offer) return { state: 'offer', offer, ...named };
  if (!routed(lead) && now < waitUntil)
    return { state: 'pending', retryAfterMs: NEXT_STEP_POLL_MS, ...named };
  return { state: 'thanks', ...named };
}

/** Signs the next-step token of a lead captured `now`. */
export function signNextStepToken(leadId: string, signingKey: string, now: Date): string {
  return signToken('next', leadId, signingKey, now, NEXT_STEP_TTL_SECONDS);
}

/** A verified next-step token: the lead, and until when the page may keep waiting for routing. */
export type VerifiedNextStep =
  | { readonly ok: true; readonly leadId: string; readonly waitUntil: Date }
  | { readonly ok: false; readonly problem: string };

/** Verifies a next-step token (signature, purpose, expiry) and derives its wait deadline. */
export function verifyNextStepToken(token: string, signingKey: string, now: Date): VerifiedNextStep {
  const verified = verifyToken(token, 'next', signingKey, now);
  if (!verified.ok) return verified;
  const expiresAt = tokenExpiry(token);
  if (expiresAt === undefined) return { ok: false, problem: 'malformed' };
  // Issued at expiry minus the lifetime: the token carries no second timestamp to tamper with.
  const issuedAt = expiresAt * 1000 - NEXT_STEP_TTL_SECONDS * 1000;
  return { ok: true, leadId: verified.leadId, waitUntil: new Date(issuedAt + NEXT_STEP_WAIT_SECONDS * 1000) };
}

/** The next-step URL under the public API URL. */
export function nextStepUrl(apiUrl: string, token: string): string {
  return `${apiUrl.replace(/\/+$/, '')}${NEXT_STEP_PATH_PREFIX}${encodeURIComponent(token)}`;
}
/** Path of the next-step route, before the token (`GET /next/{token}`). */
export const NEXT_STEP_PATH_PREFIX = '/next/';

/** The `next` object of capture's JSON answer, and of the next-step route's JSON answer. */
export function nextStepJson(step: NextStep, statusUrl: string): Record<string, unknown> {
  return {
    statusUrl,
    state: step.state,
    ...(step.state === 'pending' ? { retryAfterMs: step.retryAfterMs } : {}),
    ...(step.state === 'offer'
      ? { offer: { label: step.offer.label, repName: step.offer.repName, bookingUrl: step.offer.bookingUrl } }
      : {}),
    ...(step.firstName ? { firstName: step.firstName } : {}),
  };
}
