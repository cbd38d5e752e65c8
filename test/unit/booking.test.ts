import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LOCAL_THANK_YOU_PATH, localRedirect, thankYouPage } from '../../local/pages';
import { ClientConfigError, loadClientConfig, parseClientConfig } from '../../shared/config/load';
import type { ClientConfig } from '../../shared/config/schema';
import {
  bookingOffer,
  earnsBookingOffer,
  INSTANT_OFFER_MARKER,
  NEXT_STEP_TTL_SECONDS,
  NEXT_STEP_WAIT_SECONDS,
  nextStep,
  nextStepJson,
  prefilledBookingLink,
  schedulingTool,
  signNextStepToken,
  verifyNextStepToken,
} from '../../shared/domain/booking';
import { NEXT_STEP_FRAGMENT_PARAM, successLocation } from '../../shared/domain/capture';
import { bookingsReport } from '../../shared/domain/report-bookings';
import { signToken } from '../../shared/domain/tokens';
import { renderNextStepPage } from '../../shared/http/pages';
import { parseCalcom } from '../../shared/webhooks/calcom';
import { parseCalendly } from '../../shared/webhooks/calendly';
import { activity, makeLead } from './functions/pipeline-kit';
import { webhookRequest } from './webhooks/request';

const config: ClientConfig = loadClientConfig('example', 'clients');
const KEY = 'a-signing-key-of-enough-length';
const NOW = new Date('2026-03-02T09:00:00.000Z');
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

/** An SQL form lead assigned to Ana (Calendly in the example client). */
const hot = (overrides: Parameters<typeof makeLead>[0] = {}) =>
  makeLead({
    status: 'assigned',
    stage: 'SQL',
    owner: 'ana',
    profile: { firstName: 'Jane', lastName: 'Doe', email: 'jane.doe@acme-software.example' },
    ...overrides,
  });

describe('next-step tokens', () => {
  it('verify for the lead they were signed for, with a wait deadline a few seconds after issue', () => {
    const token = signNextStepToken('lead-1', KEY, NOW);
    const verified = verifyNextStepToken(token, KEY, at(1));
    expect(verified).toEqual({ ok: true, leadId: 'lead-1', waitUntil: at(NEXT_STEP_WAIT_SECONDS) });
  });

  it('expire after their lifetime', () => {
    const token = signNextStepToken('lead-1', KEY, NOW);
    expect(verifyNextStepToken(token, KEY, at(NEXT_STEP_TTL_SECONDS - 1)).ok).toBe(true);
    expect(verifyNextStepToken(token, KEY, at(NEXT_STEP_TTL_SECONDS + 1))).toEqual({
      ok: false,
      problem: 'expired',
    });
  });

  it('refuse a changed lead id, another key, and tokens made for another purpose', () => {
    const token = signNextStepToken('lead-1', KEY, NOW);
    const [payload, signature] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(String(payload), 'base64url').toString()), l: 'lead-2' }),
    ).toString('base64url');
    expect(verifyNextStepToken(`${forged}.${signature}`, KEY, NOW)).toEqual({
      ok: false,
      problem: 'bad-signature',
    });
    expect(verifyNextStepToken(token, 'another-key-of-enough-length', NOW)).toMatchObject({ ok: false });
    expect(verifyNextStepToken(signToken('visitor', 'lead-1', KEY, NOW, 600), KEY, NOW)).toEqual({
      ok: false,
      problem: 'wrong-purpose',
    });
    // Without an expiry it is no next-step token, even when correctly signed.
    expect(verifyNextStepToken(signToken('next', 'lead-1', KEY, NOW), KEY, NOW)).toEqual({
      ok: false,
      problem: 'malformed',
    });
    expect(verifyNextStepToken('garbage', KEY, NOW)).toMatchObject({ ok: false, problem: 'malformed' });
  });
});

describe('prefilled booking links', () => {
  it('fill in name and email on Calendly, with the instant-offer mark in utm_source', () => {
    const link = new URL(
      prefilledBookingLink('https://calendly.com/ana/30min?month=2026-03', {
        name: 'Jane Doe',
        email: 'jane+demo@acme.example',
      }),
    );
    expect(link.origin + link.pathname).toBe('https://calendly.com/ana/30min');
    expect(Object.fromEntries(link.searchParams)).toEqual({
      month: '2026-03',
      name: 'Jane Doe',
      email: 'jane+demo@acme.example',
      utm_source: INSTANT_OFFER_MARKER,
    });
  });

  it('fill in name and email on Cal.com, with the mark in metadata', () => {
    const link = new URL(
      prefilledBookingLink('https://cal.com/priya/demo', { name: 'Jane', email: 'j@a.example' }),
    );
    expect(Object.fromEntries(link.searchParams)).toEqual({
      name: 'Jane',
      email: 'j@a.example',
      'metadata[lp_offer]': INSTANT_OFFER_MARKER,
    });
  });

  it('leave any other scheduling page unchanged', () => {
    const url = 'https://meet.example.com/liam?x=1';
    expect(prefilledBookingLink(url, { name: 'Jane', email: 'j@a.example' })).toBe(url);
    expect(schedulingTool('https://app.cal.com/x')).toBe('calcom');
    expect(schedulingTool('https://calendly.com.evil.example/x')).toBe('other');
  });
});

describe('the offer decision', () => {
  it('offers an SQL form lead its owner’s scheduling page, prefilled', () => {
    expect(bookingOffer(hot(), config)).toEqual({
      repName: 'Ana Schmidt',
      label: 'Book a time with Ana Schmidt',
      bookingUrl: expect.stringContaining('https://calendly.com/northwind-ana/30min?name=Jane+Doe&email='),
      tool: 'calendly',
    });
  });

  it('offers nothing to MQLs, unassigned leads, reps without a page, or leads that came from a webhook', () => {
    expect(bookingOffer(hot({ stage: 'MQL' }), config)).toBeUndefined();
    expect(bookingOffer(hot({ owner: undefined }), config)).toBeUndefined();
    expect(bookingOffer(hot({ owner: 'liam' }), config)).toBeUndefined();
    expect(
      bookingOffer(hot({ source: { channel: 'paid_social', provider: 'meta', utm: {} } }), config),
    ).toBeUndefined();
    expect(earnsBookingOffer(hot({ source: { channel: 'web', provider: 'api', utm: {} } }), config)).toBe(
      true,
    );
  });

  it('waits while routing runs, then shows the offer or the normal thanks', () => {
    const captured = hot({ status: 'new', stage: 'lead', owner: undefined });
    expect(nextStep(captured, config, NOW, at(5))).toMatchObject({ state: 'pending', firstName: 'Jane' });
    expect(nextStep(captured, config, at(6), at(5))).toEqual({ state: 'thanks', firstName: 'Jane' });
    expect(nextStep(hot(), config, at(60), at(5))).toMatchObject({ state: 'offer' });
    const nurtured = hot({ status: 'nurturing', stage: 'lead', owner: undefined });
    expect(nextStep(nurtured, config, NOW, at(5))).toMatchObject({ state: 'thanks' });
    expect(nextStep(undefined, config, NOW, at(5))).toEqual({ state: 'thanks' });
  });

  it('renders the offer escaped, and a pending page that reloads itself without script', () => {
    const evil = hot({
      profile: { firstName: '<script>x</script>', email: 'jane.doe@acme-software.example' },
    });
    const page = renderNextStepPage(nextStep(evil, config, NOW, at(5)), config);
    expect(page).toContain('Book a time with Ana Schmidt');
    expect(page).not.toContain('<script>');
    const pending = renderNextStepPage({ state: 'pending', retryAfterMs: 700 }, config);
    expect(pending).toContain('<meta http-equiv="refresh" content="1">');
    expect(nextStepJson(nextStep(hot(), config, NOW, at(5)), 'https://api/next/t')).toMatchObject({
      statusUrl: 'https://api/next/t',
      state: 'offer',
      offer: { repName: 'Ana Schmidt', label: 'Book a time with Ana Schmidt' },
    });
  });
});

describe('capture’s redirect', () => {
  it('carries the next-step URL in the fragment, and goes to it when there is no thank-you page', () => {
    const location = successLocation(undefined, {
      allowList: [],
      thankYouUrl: 'https://www.example.com/thanks',
      visitorToken: 'v.t',
      nextStepUrl: 'https://api.example.com/next/n.t',
    });
    const fragment = new URLSearchParams(new URL(String(location)).hash.slice(1));
    expect(fragment.get(NEXT_STEP_FRAGMENT_PARAM)).toBe('https://api.example.com/next/n.t');
    expect(fragment.get('lp_token')).toBe('v.t');
    const own = successLocation(undefined, {
      allowList: [],
      nextStepUrl: 'https://api.example.com/next/n.t',
    });
    expect(own).toBe('https://api.example.com/next/n.t');
    expect(successLocation(undefined, { allowList: [] })).toBeUndefined();
  });
});

describe('booking webhooks', () => {
  it('Calendly: a booking whose tracking carries the mark came from the instant offer', () => {
    const body = (utm: string | null) =>
      JSON.stringify({
        event: 'invitee.created',
        payload: {
          uri: 'https://api.calendly.com/scheduled_events/E/invitees/I',
          email: 'jane@acme.example',
          tracking: { utm_source: utm },
          scheduled_event: { start_time: '2026-03-03T10:00:00.000000Z' },
        },
      });
    const offered = parseCalendly(webhookRequest(body(INSTANT_OFFER_MARKER)));
    expect(offered).toMatchObject({
      kind: 'booking',
      booking: { action: 'booked', instantOffer: true, meeting: { startTime: '2026-03-03T10:00:00.000Z' } },
    });
    const other = parseCalendly(webhookRequest(body('newsletter')));
    expect(other.kind === 'booking' && other.booking.instantOffer).toBeFalsy();
  });

  it('Cal.com: BOOKING_CREATED with the mark in metadata came from the instant offer', () => {
    const body = (metadata: Record<string, string>) =>
      JSON.stringify({
        triggerEvent: 'BOOKING_CREATED',
        payload: {
          uid: 'b-1',
          startTime: '2026-03-03T10:00:00Z',
          attendees: [{ email: 'jane@acme.example', name: 'Jane' }],
          metadata,
        },
      });
    expect(parseCalcom(webhookRequest(body({ lp_offer: INSTANT_OFFER_MARKER })))).toMatchObject({
      booking: { instantOffer: true, bookingId: 'b-1' },
    });
    const other = parseCalcom(webhookRequest(body({ videoCallUrl: 'https://cal.video/x' })));
    expect(other.kind === 'booking' && other.booking.instantOffer).toBeFalsy();
  });
});

describe('the bookings report', () => {
  it('counts bookings from the instant offer against bookings from rep outreach, per rep', () => {
    const a = hot({ id: 'a' });
    const b = hot({ id: 'b', owner: 'maya' });
    const c = hot({ id: 'c', stage: 'MQL', owner: 'liam' });
    const history = new Map([
      [
        'a',
        {
          activities: [activity('a', 'meeting_booked', NOW.toISOString(), { instantOffer: true })],
          sends: [],
        },
      ],
      [
        'c',
        {
          activities: [
            activity('c', 'meeting_booked', NOW.toISOString(), {}, 'm1'),
            activity('c', 'note', NOW.toISOString(), { kind: 'meeting_canceled' }, 'm2'),
          ],
          sends: [],
        },
      ],
    ]);
    const report = bookingsReport([a, b, c], history, config);
    expect(report).toMatchObject({
      offered: 2,
      instantOffer: 1,
      repOutreach: 1,
      canceled: 1,
      offerBookingRate: 0.5,
    });
    expect(report.byRep).toEqual([
      { repId: 'ana', offered: 1, instantOffer: 1, repOutreach: 0 },
      { repId: 'liam', offered: 0, instantOffer: 0, repOutreach: 1 },
      { repId: 'maya', offered: 1, instantOffer: 0, repOutreach: 0 },
    ]);
  });
});

describe('bookingUrl in the client file', () => {
  const problemsOf = (bookingUrl: unknown): string[] => {
    const raw = parse(readFileSync('clients/example.yaml', 'utf8')) as {
      reps: Array<Record<string, unknown>>;
    };
    (raw.reps[1] as Record<string, unknown>).bookingUrl = bookingUrl;
    try {
      parseClientConfig(raw, 'test.yaml');
    } catch (error) {
      if (error instanceof ClientConfigError) return [...error.problems];
      throw error;
    }
    return [];
  };

  it('must be an https URL, and the error names the field', () => {
    expect(problemsOf('https://calendly.com/liam/30min')).toEqual([]);
    expect(problemsOf('http://calendly.com/liam/30min').join('\n')).toMatch(
      /reps\[1\]\.bookingUrl: .*https URL/,
    );
    expect(problemsOf('calendly.com/liam').join('\n')).toMatch(/reps\[1\]\.bookingUrl/);
  });
});

describe('the local thank-you page', () => {
  const API = 'http://127.0.0.1:4100';
  const links = {
    apiUrl: API,
    sesInboxUrl: `${API}/ses`,
    slackRecorderUrl: `${API}/slack`,
    snsRecorderUrl: `${API}/sns`,
    executionsUrl: `${API}/executions`,
  };

  it('is given the next-step URL from the redirect’s fragment, and shows the offer, a wait or nothing more', () => {
    const next = `${API}/next/n.t`;
    const page = new URL(
      localRedirect(
        `https://www.example.com/thanks#lp_token=v.t&${NEXT_STEP_FRAGMENT_PARAM}=${encodeURIComponent(next)}`,
        API,
      ) ?? '',
    );
    expect(page.searchParams.get('next')).toBe(next);
    const token = signToken('visitor', 'lead-1', KEY, new Date());
    const url = new URL(`${API}${LOCAL_THANK_YOU_PATH}?token=${token}`);
    const offered = thankYouPage(url, links, config, KEY, {
      state: 'offer',
      offer: {
        label: 'Book a time with Ana Schmidt',
        bookingUrl: 'https://calendly.com/ana?name=A&email=a@b.example',
      },
    });
    expect(offered).toContain(
      'id="book-a-time" href="https://calendly.com/ana?name=A&amp;email=a@b.example"',
    );
    const waiting = thankYouPage(url, links, config, KEY, { state: 'pending' });
    expect(waiting).toContain('http-equiv="refresh"');
    expect(waiting).toContain('data-next-pending');
    const thanked = thankYouPage(url, links, config, KEY, { state: 'thanks' });
    expect(thanked).not.toContain('data-booking-offer');
    expect(thanked).not.toContain('http-equiv="refresh"');
  });
});
