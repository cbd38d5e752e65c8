import type { ClientConfig } from '../config/schema';

/**
 * The first-party tracking script served at `GET /t.js` and embedded on the client's landing
 * pages with `<script src="https://<api>/t.js" async></script>`.
 *
 * It is plain ES2017 kept as readable source here (no build step, nothing to minify) and is
 * sent as is, with its settings (the API base URL and the consent mode) injected where
 * `__LP_SETTINGS__` stands. What it does:
 *
 * - Consent: in `consent-required` mode nothing is sent or stored until the page calls
 *   `leadTracker.consent(true)`; in `opt-out` mode until `leadTracker.consent(false)`. The
 *   choice is kept in localStorage (`lp_consent`). `DNT: 1` / Global Privacy Control mean no.
 * - Identity: a random visitor id (`lp_vid`, `crypto.randomUUID`) and the visitor token that
 *   capture appends to its redirect as `#lp_token=...` (taken out of the address bar at once)
 *   live in localStorage, never in cookies. Events name the visitor by these two only: an
 *   address is never sent (`identify(email)` is kept as a no-op for pages that still call it),
 *   because the endpoint is public and an address proves nothing about who is browsing.
 * - Events: a `page_view` on load, then whatever the page reports through `leadTracker.track`,
 *   posted to `/events` with `navigator.sendBeacon` (or `fetch` keepalive) as `text/plain`, a
 *   CORS "simple request" that needs no preflight.
 * - Forms: every form posting to the capture endpoint (`/leads`) gets hidden `_ts` (render time,
 *   epoch ms, for capture's time-to-submit bot check) and, with consent, `_vid` and (once this
 *   browser holds one) `_vtoken` inputs; JSON posts to `/leads` through `fetch` get them added to
 *   their body. Capture attaches the visitor's anonymous history to an existing lead only when
 *   `_vtoken` is signed for that lead.
 */
export const TRACKING_SCRIPT_SOURCE = `/* lead-pipeline tracker */
(function (window, document, settings) {
  'use strict';
  if (window.leadTracker) return;
  var EVENTS = settings.apiUrl + '/events', CAPTURE = settings.apiUrl + '/leads';
  var nav = window.navigator || {}, post = window.fetch, loc = window.location;
  var renderedAt = Date.now(), viewSent = false, token = null;

  // Reads (value undefined), writes or removes (null); storage may be disabled and throw.
  function store(key, value) {
    try {
      var s = window.localStorage;
      return value === undefined ? s.getItem(key) : value === null ? s.removeItem(key) : s.setItem(key, value);
    } catch (e) { return null; }
  }
  function allowed() {
    var choice = store('lp_consent');
    if (nav.doNotTrack === '1' || nav.globalPrivacyControl === true || choice === 'denied') return false;
    return choice === 'granted' || settings.consentMode === 'opt-out';
  }
  function visitorId() {
    var id = store('lp_vid'), c = window.crypto;
    if (!id) {
      id = c && c.randomUUID ? c.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2);
      store('lp_vid', id);
    }
    return id;
  }

  // #lp_token=... from capture's redirect leaves the address bar at once; stored only with consent.
  var hash = loc.hash.slice(1), m = /(?:^|&)lp_token=([^&]*)/.exec(hash);
  if (m) {
    try { token = decodeURIComponent(m[1]); } catch (e) {}
    hash = hash.replace(m[0], '').replace(/^&/, '');
    try { window.history.replaceState(window.history.state, '', loc.pathname + loc.search + (hash ? '#' + hash : '')); } catch (e) {}
  }

  function send(event) {
    var body = JSON.stringify(event);
    try { if (nav.sendBeacon && nav.sendBeacon(EVENTS, body)) return; } catch (e) {}
    if (post) post.call(window, EVENTS, { method: 'POST', body: body, keepalive: true,
      headers: { 'Content-Type': 'text/plain' } }).catch(function () {});
  }
  function track(type, data) {
    if (!allowed()) return false;
    if (token) store('lp_token', token);
    token = null;
    data = data || {};
    var event = { type: type, occurredAt: new Date().toISOString(), visitorId: visitorId(),
      path: String(data.path || loc.pathname).slice(0, 2048) };
    if (data.title) event.title = String(data.title).slice(0, 300);
    if (data.asset) event.asset = String(data.asset).slice(0, 300);
    var stored = store('lp_token');
    if (stored) event.token = stored;
    if (store('lp_consent') === 'granted') event.consent = { analytics: true };
    send(event);
    return true;
  }
  function pageView() {
    if (!viewSent) viewSent = track('page_view', { title: document.title });
  }

  function isCapture(url) {
    return typeof url === 'string' && url.split(/[?#]/)[0].replace(/\\/$/, '') === CAPTURE;
  }
  // Sets a hidden input (an existing _ts is kept), or removes it when value is null.
  function field(form, name, value) {
    var el = form.querySelector('input[name="' + name + '"]');
    if (value === null) return el && el.parentNode.removeChild(el);
    if (!el) {
      el = document.createElement('input');
      el.type = 'hidden';
      el.name = name;
      form.appendChild(el);
    }
    if (name === '_vid' || !el.value) el.value = value;
  }
  function decorate(form) {
    if (!isCapture(form.action)) return;
    field(form, '_ts', String(renderedAt));
    field(form, '_vid', allowed() ? visitorId() : null);
    field(form, '_vtoken', (allowed() && store('lp_token')) || null);
  }
  function decorateAll() {
    Array.prototype.forEach.call(document.querySelectorAll('form'), decorate);
  }

  // JSON posts to capture carry the visitor id too.
  if (post) window.fetch = function (req, init) {
    try {
      var body = isCapture(typeof req === 'string' ? req : req.url) && allowed() && JSON.parse(init.body);
      if (body && !body._vid) {
        body._vid = visitorId();
        if (store('lp_token')) body._vtoken = store('lp_token');
        init = Object.assign({}, init, { body: JSON.stringify(body) });
      }
    } catch (e) {}
    return post.call(this, req, init);
  };

  window.leadTracker = {
    track: track,
    consent: function (granted) {
      store('lp_consent', granted ? 'granted' : 'denied');
      if (granted) pageView();
      else { store('lp_vid', null); store('lp_token', null); }
      decorateAll();
    },
    identify: function () {}
  };

  document.addEventListener('submit', function (e) { if (e.target) decorate(e.target); }, true);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', decorateAll);
  else decorateAll();
  pageView();
})(window, document, __LP_SETTINGS__);
`;

/**
 * The served form of the source: indentation, blank lines and whole-line comments removed.
 * Safe because the source has no multi-line string literals; it keeps the script well under 4 KB
 * without a minifier in the toolchain.
 */
const SERVED_SOURCE = TRACKING_SCRIPT_SOURCE.split('\n')
  .map((line) => line.trim())
  .filter((line) => line.length > 0 && !line.startsWith('//'))
  .join('\n');

/** Settings injected into the script when it is served. */
export interface TrackingScriptSettings {
  /** Public base URL of the API, without a trailing slash (`https://abc.execute-api.eu-west-1.amazonaws.com`). */
  readonly apiUrl: string;
  readonly consentMode: ClientConfig['client']['consentMode'];
}

/**
 * The script with its settings injected. The settings are JSON with `<` escaped, so a hostile
 * value can neither break out of the string literal nor close an inline `<script>` element.
 */
export function renderTrackingScript(settings: TrackingScriptSettings): string {
  const literal = JSON.stringify({ apiUrl: settings.apiUrl, consentMode: settings.consentMode })
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return SERVED_SOURCE.replace('__LP_SETTINGS__', () => literal);
}

/** What the request tells about where the API is being served from. */
export interface ServedFrom {
  /** The domain the request came to (`requestContext.domainName`, else the `Host` header). */
  readonly host?: string;
  /** `X-Forwarded-Proto`; API Gateway is https-only, local emulators may use http. */
  readonly proto?: string;
  /** The raw request path (`/t.js`, `/prod/t.js` under a named stage or mapped base path). */
  readonly rawPath?: string;
  /** The stage name (`$default` has no path prefix). */
  readonly stage?: string;
}

const HOST_PATTERN = /^[a-z0-9.-]+(?::\d{1,5})?$/i;

/**
 * The API base URL the script must call: the origin it was loaded from plus whatever prefix
 * (named stage, custom-domain base path) precedes `/t.js`, so one deployment works on its
 * execute-api address, a custom domain and a local emulator alike. Falls back to `fallback`
 * (the stack's `API_URL`) when the host is missing or not a plain host name.
 */
export function trackingApiBase(from: ServedFrom, fallback: string | undefined): string {
  const host = from.host?.trim();
  if (!host || !HOST_PATTERN.test(host)) {
    if (fallback) return fallback.replace(/\/+$/, '');
    throw new Error('Cannot tell the API URL: the request has no usable host and API_URL is unset');
  }
  const proto = from.proto?.split(',')[0]?.trim().toLowerCase() === 'http' ? 'http' : 'https';
  let prefix = '';
  const rawPath = from.rawPath ?? '';
  if (rawPath.endsWith('/t.js')) prefix = rawPath.slice(0, -'/t.js'.length);
  else if (from.stage && from.stage !== '$default') prefix = `/${from.stage}`;
  if (!/^(?:\/[A-Za-z0-9._~-]+)*$/.test(prefix)) prefix = '';
  return `${proto}://${host.toLowerCase()}${prefix}`;
}
