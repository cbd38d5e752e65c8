import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  activityTypeFor,
  anonymousExpiry,
  hasPrivacySignal,
  isPricingPath,
  MAX_EVENTS_PER_REQUEST,
  mayStore,
  normalisePath,
  parseTrackingRequest,
  trackedActivity,
  trackedActivityId,
} from '../../shared/domain/tracking';
import { renderTrackingScript, TRACKING_SCRIPT_SOURCE, trackingApiBase } from '../../shared/tracking/script';

const now = new Date('2026-03-02T10:00:00.000Z');
const VID = '6f1c2b1e-0d5e-4c47-9a39-2f3a1c0b9d11';

describe('parseTrackingRequest', () => {
  it('accepts one event and defaults occurredAt to now', () => {
    const parsed = parseTrackingRequest({ type: 'page_view', path: '/features', visitorId: VID }, now);
    expect(parsed).toEqual({
      ok: true,
      batch: false,
      events: [
        { type: 'page_view', path: '/features', visitorId: VID, occurredAt: '2026-03-02T10:00:00.000Z' },
      ],
    });
  });

  it('stores occurredAt in UTC whatever offset the page sent', () => {
    const parsed = parseTrackingRequest(
      { type: 'demo_request', occurredAt: '2026-03-02T11:30:00+02:00', visitorId: VID },
      now,
    );
    expect(parsed.ok && parsed.events[0]?.occurredAt).toBe('2026-03-02T09:30:00.000Z');
  });

  it('allows up to 5 minutes of clock skew into the future, not more', () => {
    const fourMinutes = parseTrackingRequest(
      { type: 'demo_request', occurredAt: '2026-03-02T10:04:00Z', visitorId: VID },
      now,
    );
    expect(fourMinutes.ok).toBe(true);
    const sixMinutes = parseTrackingRequest(
      { type: 'demo_request', occurredAt: '2026-03-02T10:06:00Z', visitorId: VID },
      now,
    );
    expect(sixMinutes).toEqual({
      ok: false,
      problems: [
        { field: 'occurredAt', reason: 'more than 5 minutes in the future (check the device clock)' },
      ],
    });
  });

  it('names every bad field of a batch by its index', () => {
    const parsed = parseTrackingRequest(
      {
        events: [
          { type: 'page_view', path: '/a', visitorId: VID },
          { type: 'content_download', visitorId: VID },
          { type: 'clicked_everything', visitorId: VID },
          { type: 'page_view', path: 'no-slash', visitorId: 'x' },
        ],
      },
      now,
    );
    expect(parsed.ok).toBe(false);
    const fields = parsed.ok ? [] : parsed.problems.map((p) => p.field);
    expect(fields).toEqual(['events[1].asset', 'events[2].type', 'events[3].path', 'events[3].visitorId']);
  });

  it('refuses more than 20 events and an empty batch', () => {
    const many = Array.from({ length: MAX_EVENTS_PER_REQUEST + 1 }, () => ({
      type: 'page_view',
      path: '/',
      visitorId: VID,
    }));
    expect(parseTrackingRequest({ events: many }, now)).toEqual({
      ok: false,
      problems: [{ field: 'events', reason: 'at most 20 events per request' }],
    });
    expect(parseTrackingRequest({ events: [] }, now)).toEqual({
      ok: false,
      problems: [{ field: 'events', reason: 'at least one event' }],
    });
  });

  it('needs some identity and says visitorId is the one to send', () => {
    expect(parseTrackingRequest({ type: 'page_view', path: '/' }, now)).toEqual({
      ok: false,
      problems: [{ field: 'visitorId', reason: 'required when the event carries no visitor token' }],
    });
  });

  it('needs a path for a page view', () => {
    const parsed = parseTrackingRequest({ type: 'page_view', visitorId: VID }, now);
    expect(parsed.ok ? [] : parsed.problems).toEqual([
      { field: 'path', reason: 'a page view needs the page path' },
    ]);
  });

  it('never identifies a visitor by an email or a lead id: anyone can type those', () => {
    for (const stranger of [{ email: 'jane.doe@acme.com' }, { leadId: 'lead-1' }]) {
      const bare = parseTrackingRequest({ type: 'demo_request', ...stranger }, now);
      expect(bare.ok ? [] : bare.problems.map((p) => p.field)).toEqual(['visitorId']);
      const withVisitor = parseTrackingRequest({ type: 'demo_request', visitorId: VID, ...stranger }, now);
      expect(withVisitor.ok && withVisitor.events[0]).not.toHaveProperty(Object.keys(stranger)[0] as string);
    }
  });

  it('refuses a consent object without a boolean', () => {
    const parsed = parseTrackingRequest(
      { type: 'meeting_booked', visitorId: VID, consent: { analytics: 'yes' } },
      now,
    );
    expect(parsed.ok ? [] : parsed.problems.map((p) => p.field)).toEqual(['consent.analytics']);
  });

  it('does not accept pricing_page_view from the page: the server derives it', () => {
    const parsed = parseTrackingRequest({ type: 'pricing_page_view', path: '/pricing', visitorId: VID }, now);
    expect(parsed.ok ? [] : parsed.problems.map((p) => p.field)).toEqual(['type']);
  });
});

describe('consent', () => {
  it('needs explicit consent in consent-required mode', () => {
    expect(mayStore({}, 'consent-required', false)).toBe(false);
    expect(mayStore({ consent: { analytics: false } }, 'consent-required', false)).toBe(false);
    expect(mayStore({ consent: { analytics: true } }, 'consent-required', false)).toBe(true);
  });

  it('stores unless refused in opt-out mode', () => {
    expect(mayStore({}, 'opt-out', false)).toBe(true);
    expect(mayStore({ consent: { analytics: true } }, 'opt-out', false)).toBe(true);
    expect(mayStore({ consent: { analytics: false } }, 'opt-out', false)).toBe(false);
  });

  it('lets a browser privacy signal override any consent', () => {
    expect(mayStore({ consent: { analytics: true } }, 'consent-required', true)).toBe(false);
    expect(mayStore({ consent: { analytics: true } }, 'opt-out', true)).toBe(false);
  });

  it('reads DNT: 1 and Sec-GPC: 1 as privacy signals, nothing else', () => {
    expect(hasPrivacySignal({ dnt: '1' })).toBe(true);
    expect(hasPrivacySignal({ secGpc: ' 1 ' })).toBe(true);
    expect(hasPrivacySignal({ dnt: '0', secGpc: undefined })).toBe(false);
    expect(hasPrivacySignal({})).toBe(false);
  });
});

describe('pricing pages', () => {
  const pricing = ['/pricing', '/plans/'];

  it('matches the page and pages below it, ignoring case, query and trailing slash', () => {
    expect(isPricingPath('/pricing', pricing)).toBe(true);
    expect(isPricingPath('/Pricing/?utm_source=ads', pricing)).toBe(true);
    expect(isPricingPath('/pricing/enterprise', pricing)).toBe(true);
    expect(isPricingPath('/plans', pricing)).toBe(true);
  });

  it('does not match a sibling that only starts alike', () => {
    expect(isPricingPath('/pricing-faq', pricing)).toBe(false);
    expect(isPricingPath('/blog/pricing', pricing)).toBe(false);
  });

  it('turns a pricing page view into pricing_page_view and leaves other types alone', () => {
    expect(activityTypeFor({ type: 'page_view', path: '/pricing' }, pricing)).toBe('pricing_page_view');
    expect(activityTypeFor({ type: 'page_view', path: '/blog' }, pricing)).toBe('page_view');
    expect(activityTypeFor({ type: 'demo_request', path: '/pricing' }, pricing)).toBe('demo_request');
  });

  it('normalises paths', () => {
    expect(normalisePath('/')).toBe('/');
    expect(normalisePath('/A/B//?x=1#top')).toBe('/a/b');
  });

  it('counts any page below a pricing path (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9-]{1,20}$/), (segment) => {
        expect(isPricingPath(`/pricing/${segment}`, ['/pricing'])).toBe(true);
        expect(isPricingPath(`/pricing${segment}`, ['/pricing'])).toBe(false);
      }),
    );
  });
});

describe('tracked activities', () => {
  it('derives the same id for the same event and another for any difference', () => {
    const at = '2026-03-02T10:00:00.000Z';
    const id = trackedActivityId({ visitorId: VID }, 'page_view', at, '/a');
    expect(trackedActivityId({ visitorId: VID }, 'page_view', at, '/a')).toBe(id);
    expect(trackedActivityId({ visitorId: VID }, 'page_view', at, '/b')).not.toBe(id);
    expect(trackedActivityId({ visitorId: VID }, 'page_view', '2026-03-02T10:00:00.001Z', '/a')).not.toBe(id);
    expect(trackedActivityId({ leadId: VID }, 'page_view', at, '/a')).not.toBe(id);
    expect(trackedActivityId({ visitorId: VID }, 'content_download', at, '/a', 'guide.pdf')).not.toBe(
      trackedActivityId({ visitorId: VID }, 'content_download', at, '/a', 'other.pdf'),
    );
  });

  it('always makes ids that fit the activity model (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.option(fc.string(), { nil: undefined }), (who, at, path) => {
        const id = trackedActivityId({ leadId: who }, 'page_view', at, path);
        expect(id).toMatch(/^trk-[A-Za-z0-9_-]{32}$/);
      }),
    );
  });

  it('builds the activity with only path, title and asset as data', () => {
    const parsed = parseTrackingRequest(
      { type: 'page_view', path: '/plans', title: 'Plans', visitorId: VID, consent: { analytics: true } },
      now,
    );
    if (!parsed.ok) throw new Error('expected a valid event');
    const [event] = parsed.events;
    if (!event) throw new Error('expected an event');
    expect(trackedActivity(event, { visitorId: VID }, ['/plans'])).toEqual({
      id: trackedActivityId({ visitorId: VID }, 'pricing_page_view', '2026-03-02T10:00:00.000Z', '/plans'),
      type: 'pricing_page_view',
      at: '2026-03-02T10:00:00.000Z',
      data: { path: '/plans', title: 'Plans' },
    });
  });

  it('expires anonymous events after the retention period', () => {
    expect(anonymousExpiry(now, 30)).toBe(Date.parse('2026-04-01T10:00:00.000Z') / 1000);
  });
});

// ------------------------------------------------------------------------------------------------
// The browser script, run in a VM with a minimal fake window and document.

const API = 'https://api.northwind.example';

class FakeInput {
  type = 'text';
  name = '';
  value = '';
  parentNode: FakeForm | null = null;
}

class FakeForm {
  readonly inputs: FakeInput[] = [];
  constructor(public action: string) {}
  querySelector(selector: string): FakeInput | null {
    const name = /^input\[name="(.+)"\]$/.exec(selector)?.[1];
    return this.inputs.find((i) => i.name === name) ?? null;
  }
  appendChild(input: FakeInput): void {
    input.parentNode = this;
    this.inputs.push(input);
  }
  removeChild(input: FakeInput): void {
    this.inputs.splice(this.inputs.indexOf(input), 1);
    input.parentNode = null;
  }
  field(name: string): string | undefined {
    return this.querySelector(`input[name="${name}"]`)?.value;
  }
}

interface BrowserOptions {
  consentMode?: 'consent-required' | 'opt-out';
  storage?: Record<string, string>;
  hash?: string;
  pathname?: string;
  doNotTrack?: string;
  globalPrivacyControl?: boolean;
  beacon?: boolean;
  forms?: FakeForm[];
}

interface Sent {
  url: string;
  body: Record<string, unknown>;
  via: 'beacon' | 'fetch';
  init?: Record<string, unknown>;
}

function browser(options: BrowserOptions = {}) {
  const storage = new Map(Object.entries(options.storage ?? {}));
  const sent: Sent[] = [];
  const fetched: Array<{ url: unknown; init: { body?: unknown } | undefined }> = [];
  const replaced: string[] = [];
  const listeners: Record<string, Array<(e: unknown) => void>> = {};
  const forms = options.forms ?? [];
  let uuids = 0;
  const window: Record<string, unknown> = {
    navigator: {
      ...(options.beacon === false
        ? {}
        : {
            sendBeacon: (url: string, body: string) => {
              sent.push({ url, body: JSON.parse(body), via: 'beacon' });
              return true;
            },
          }),
      doNotTrack: options.doNotTrack,
      globalPrivacyControl: options.globalPrivacyControl,
    },
    localStorage: {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => storage.set(k, String(v)),
      removeItem: (k: string) => storage.delete(k),
    },
    location: { hash: options.hash ?? '', pathname: options.pathname ?? '/features', search: '?a=1' },
    history: { state: null, replaceState: (_s: unknown, _t: string, url: string) => replaced.push(url) },
    crypto: { randomUUID: () => `00000000-0000-4000-8000-00000000000${++uuids}` },
    fetch: (url: unknown, init?: { body?: unknown }) => {
      fetched.push({ url, init });
      if (url === `${API}/events` && typeof init?.body === 'string') {
        sent.push({ url, body: JSON.parse(init.body), via: 'fetch', init: init as Record<string, unknown> });
      }
      return Promise.resolve({ ok: true });
    },
  };
  const document = {
    title: 'Features · Northwind',
    readyState: 'complete',
    querySelectorAll: (selector: string) => (selector === 'form' ? forms : []),
    createElement: () => new FakeInput(),
    addEventListener: (type: string, fn: (e: unknown) => void) => {
      listeners[type] = [...(listeners[type] ?? []), fn];
    },
  };
  const script = renderTrackingScript({
    apiUrl: API,
    consentMode: options.consentMode ?? 'consent-required',
  });
  runInNewContext(script, { window, document });
  const tracker = window.leadTracker as {
    track(type: string, data?: Record<string, unknown>): boolean;
    consent(granted: boolean): void;
    identify(email: string): void;
  };
  return {
    tracker,
    sent,
    fetched,
    storage,
    replaced,
    submit: (form: FakeForm) => {
      for (const fn of listeners.submit ?? []) fn({ target: form });
    },
    fetch: window.fetch as (url: unknown, init?: { body?: unknown }) => Promise<unknown>,
  };
}

describe('tracking script', () => {
  it('is small and parses as a script', () => {
    const script = renderTrackingScript({ apiUrl: API, consentMode: 'opt-out' });
    expect(Buffer.byteLength(script)).toBeLessThan(4096);
    expect(() => new Function(script)).not.toThrow();
    expect(TRACKING_SCRIPT_SOURCE).toContain('__LP_SETTINGS__');
    expect(script).not.toContain('__LP_SETTINGS__');
  });

  it('injects settings as JSON that cannot close a script element', () => {
    const script = renderTrackingScript({ apiUrl: 'https://x.example/</script><b>', consentMode: 'opt-out' });
    expect(script).toContain(
      '{"apiUrl":"https://x.example/\\u003c/script>\\u003cb>","consentMode":"opt-out"}',
    );
    expect(script).not.toContain('</script>');
  });

  it('sends and stores nothing before consent in consent-required mode, but still stamps forms with _ts', () => {
    const lead = new FakeForm(`${API}/leads`);
    const other = new FakeForm('https://newsletter.example/subscribe');
    const page = browser({ forms: [lead, other] });
    expect(page.sent).toEqual([]);
    expect(page.storage.size).toBe(0);
    expect(Number(lead.field('_ts'))).toBeGreaterThan(0);
    expect(lead.field('_vid')).toBeUndefined();
    expect(other.inputs).toEqual([]);
    expect(page.tracker.track('demo_request')).toBe(false);
    expect(page.sent).toEqual([]);
  });

  it('after consent(true) remembers the choice, sends the page view and adds _vid to capture forms', () => {
    const lead = new FakeForm(`${API}/leads?form=demo`);
    const page = browser({ forms: [lead] });
    page.tracker.consent(true);
    expect(page.storage.get('lp_consent')).toBe('granted');
    const vid = page.storage.get('lp_vid');
    expect(vid).toBe('00000000-0000-4000-8000-000000000001');
    expect(page.sent).toHaveLength(1);
    expect(page.sent[0]?.url).toBe(`${API}/events`);
    expect(page.sent[0]?.via).toBe('beacon');
    expect(page.sent[0]?.body).toEqual({
      type: 'page_view',
      occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      visitorId: vid,
      path: '/features',
      title: 'Features · Northwind',
      consent: { analytics: true },
    });
    expect(lead.field('_vid')).toBe(vid);
    expect(lead.inputs.every((i) => i.type === 'hidden')).toBe(true);
    page.tracker.consent(true);
    expect(page.sent).toHaveLength(1); // one page view per page
  });

  it('tracks from the first page once consent is stored, reusing the visitor id', () => {
    const page = browser({ storage: { lp_consent: 'granted', lp_vid: VID } });
    expect(page.sent.map((s) => s.body.visitorId)).toEqual([VID]);
    expect(page.tracker.track('content_download', { asset: 'Pricing guide.pdf' })).toBe(true);
    expect(page.sent[1]?.body).toMatchObject({
      type: 'content_download',
      asset: 'Pricing guide.pdf',
      path: '/features',
      visitorId: VID,
    });
  });

  it('sends in opt-out mode without asking, and stops and forgets on consent(false)', () => {
    const lead = new FakeForm(`${API}/leads`);
    const page = browser({ consentMode: 'opt-out', forms: [lead] });
    expect(page.sent).toHaveLength(1);
    expect(page.sent[0]?.body.consent).toBeUndefined();
    expect(lead.field('_vid')).toBe(page.storage.get('lp_vid'));
    page.tracker.consent(false);
    expect(page.storage.get('lp_consent')).toBe('denied');
    expect(page.storage.has('lp_vid')).toBe(false);
    expect(lead.field('_vid')).toBeUndefined();
    expect(lead.field('_ts')).toBeDefined();
    expect(page.tracker.track('demo_request')).toBe(false);
    expect(page.sent).toHaveLength(1);
  });

  it('respects Do Not Track and Global Privacy Control even after consent', () => {
    const dnt = browser({ consentMode: 'opt-out', doNotTrack: '1' });
    const gpc = browser({ storage: { lp_consent: 'granted' }, globalPrivacyControl: true });
    dnt.tracker.consent(true);
    expect(dnt.sent).toEqual([]);
    expect(gpc.sent).toEqual([]);
    expect(gpc.storage.has('lp_vid')).toBe(false);
  });

  it('takes the visitor token from the fragment, cleans the address bar and sends the token', () => {
    const page = browser({
      storage: { lp_consent: 'granted' },
      hash: '#step=2&lp_token=abc.def',
      pathname: '/thank-you',
    });
    expect(page.replaced).toEqual(['/thank-you?a=1#step=2']);
    expect(page.storage.get('lp_token')).toBe('abc.def');
    expect(page.sent[0]?.body).toMatchObject({ type: 'page_view', token: 'abc.def', path: '/thank-you' });
  });

  it('holds the token in memory until consent is given', () => {
    const page = browser({ hash: '#lp_token=abc.def' });
    expect(page.replaced).toEqual(['/features?a=1']);
    expect(page.storage.has('lp_token')).toBe(false);
    page.tracker.consent(true);
    expect(page.storage.get('lp_token')).toBe('abc.def');
    expect(page.sent[0]?.body.token).toBe('abc.def');
  });

  it('never sends an address, even one given to identify() (kept as a no-op for older pages)', () => {
    const page = browser({ consentMode: 'opt-out' });
    page.tracker.identify(' jane@acme.example ');
    page.tracker.track('webinar_registered');
    expect(page.sent[1]?.body).toMatchObject({ type: 'webinar_registered' });
    expect(page.sent[1]?.body).not.toHaveProperty('email');
    expect([...page.storage.values()]).not.toContain('jane@acme.example');
  });

  it('falls back to fetch keepalive with text/plain when sendBeacon is missing', () => {
    const page = browser({ consentMode: 'opt-out', beacon: false });
    expect(page.sent).toHaveLength(1);
    expect(page.sent[0]?.via).toBe('fetch');
    expect(page.sent[0]?.init).toMatchObject({
      method: 'POST',
      keepalive: true,
      headers: { 'Content-Type': 'text/plain' },
    });
  });

  it('adds _vid to JSON posts to capture through fetch, and leaves other requests alone', async () => {
    const page = browser({ consentMode: 'opt-out' });
    const vid = page.storage.get('lp_vid');
    await page.fetch(`${API}/leads`, { body: JSON.stringify({ email: 'jane@acme.example' }) });
    await page.fetch('https://other.example/api', { body: JSON.stringify({ email: 'jane@acme.example' }) });
    await page.fetch(`${API}/leads`, { body: JSON.stringify({ email: 'a@b.example', _vid: 'page-own-id' }) });
    const bodies = page.fetched.map((f) => JSON.parse(String(f.init?.body)));
    expect(bodies).toEqual([
      { email: 'jane@acme.example', _vid: vid },
      { email: 'jane@acme.example' },
      { email: 'a@b.example', _vid: 'page-own-id' },
    ]);
  });

  it('does not add _vid to JSON posts without consent', async () => {
    const page = browser();
    await page.fetch(`${API}/leads`, { body: JSON.stringify({ email: 'jane@acme.example' }) });
    expect(JSON.parse(String(page.fetched[0]?.init?.body))).toEqual({ email: 'jane@acme.example' });
  });

  it('decorates a form rendered after load when it is submitted, keeping a _ts the page set', () => {
    const page = browser({ consentMode: 'opt-out' });
    const late = new FakeForm(`${API}/leads/`);
    const ts = new FakeInput();
    ts.name = '_ts';
    ts.value = '1700000000000';
    late.appendChild(ts);
    page.submit(late);
    expect(late.field('_ts')).toBe('1700000000000');
    expect(late.field('_vid')).toBe(page.storage.get('lp_vid'));
  });
});

describe('trackingApiBase', () => {
  it('uses the domain the script was loaded from, https by default', () => {
    expect(
      trackingApiBase(
        { host: 'abc123.execute-api.eu-west-1.amazonaws.com', rawPath: '/t.js', stage: '$default' },
        undefined,
      ),
    ).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com');
  });

  it('keeps a stage or base-path prefix and the local protocol', () => {
    expect(trackingApiBase({ host: 'api.northwind.example', rawPath: '/v1/t.js' }, undefined)).toBe(
      'https://api.northwind.example/v1',
    );
    expect(
      trackingApiBase(
        { host: 'localhost:3000', proto: 'http', rawPath: '/dev/t.js', stage: 'dev' },
        undefined,
      ),
    ).toBe('http://localhost:3000/dev');
    expect(trackingApiBase({ host: 'api.northwind.example', rawPath: '/x', stage: 'prod' }, undefined)).toBe(
      'https://api.northwind.example/prod',
    );
  });

  it('falls back to API_URL when the host is missing or not a host name', () => {
    expect(
      trackingApiBase({ host: 'evil.example/"><script>', rawPath: '/t.js' }, 'https://api.example.com/'),
    ).toBe('https://api.example.com');
    expect(trackingApiBase({}, 'https://api.example.com')).toBe('https://api.example.com');
    expect(() => trackingApiBase({}, undefined)).toThrow(/API_URL/);
  });
});
