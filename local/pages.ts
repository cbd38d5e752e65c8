import type { ClientConfig } from '../shared/config/schema';
import { NEXT_STEP_POLL_MS } from '../shared/domain/booking';
import { NEXT_STEP_FRAGMENT_PARAM, TOKEN_FRAGMENT_PARAM } from '../shared/domain/capture';
import { verifyToken } from '../shared/domain/tokens';
import { escapeHtml } from '../shared/http/api';
import { renderBookingOffer } from '../shared/http/pages';

/**
 * The local pages a browser sees offline: the demo landing page (a real form posting to the
 * capture endpoint, with the tracking script and a consent banner) and the local thank-you page
 * that redirects which would leave the machine land on instead.
 */

/** Where the local pages link to. */
export interface PageLinks {
  readonly apiUrl: string;
  readonly sesInboxUrl: string;
  readonly slackRecorderUrl: string;
  readonly snsRecorderUrl: string;
  /** The SMS recorder, when the stack sends SMS. */
  readonly smsRecorderUrl?: string;
  readonly executionsUrl: string;
}

/** Path of the local thank-you page on the local API. */
export const LOCAL_THANK_YOU_PATH = '/_local/thank-you';

const STYLE = `body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem 6rem;color:#1f2937}
label{display:block;margin:.8rem 0 .2rem;font-weight:600}input,select,textarea{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}
button{margin-top:1.2rem;padding:.7rem 1.4rem;font:inherit;background:#2563eb;color:#fff;border:0;border-radius:.3rem}
.hp{position:absolute;left:-5000px}
#consent{position:fixed;left:0;right:0;bottom:0;background:#111827;color:#f9fafb;padding:.8rem 1rem;display:flex;gap:.8rem;align-items:center;flex-wrap:wrap}
#consent[hidden]{display:none}#consent p{margin:0;flex:1 1 18rem}#consent button{margin:0;padding:.5rem 1rem}#consent .secondary{background:#374151}
dt{font-weight:600;margin-top:.6rem}code{background:#f3f4f6;padding:0 .2rem}`;

/**
 * The consent banner: what a landing page shows so the tracking script may record page views.
 * `leadTracker.consent(true|false)` records the choice (and sends the page view at once when
 * granted); before the script has loaded, the choice goes straight to the key it reads on load.
 * Shown until a choice is made; in `opt-out` mode tracking runs until the visitor declines.
 */
function consentBanner(config: ClientConfig): string {
  const optOut = config.client.consentMode === 'opt-out';
  const text = optOut
    ? 'We record the pages you visit here (first-party analytics, no cookies) to follow up on your request. You can decline.'
    : 'May we record the pages you visit here (first-party analytics, no cookies) to follow up on your request?';
  return `<div id="consent" role="region" aria-label="Analytics consent" hidden>
<p>${escapeHtml(text)}</p>
<button type="button" data-consent="yes">Accept analytics</button><button type="button" class="secondary" data-consent="no">Decline</button></div>
<script>(function(){
var banner=document.getElementById('consent');var chosen=null;
try{chosen=localStorage.getItem('lp_consent');}catch(e){}
if(!chosen)banner.hidden=false;
banner.addEventListener('click',function(e){var b=e.target.closest&&e.target.closest('button[data-consent]');if(!b)return;
var granted=b.getAttribute('data-consent')==='yes';
if(window.leadTracker)window.leadTracker.consent(granted);else try{localStorage.setItem('lp_consent',granted?'granted':'denied');}catch(e){}
banner.hidden=true;});
})();</script>`;
}

/** The demo landing page: a real HTML form posting to the capture endpoint. */
export function landingPage(apiUrl: string, config: ClientConfig): string {
  const hp = config.capture.honeypotField;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(config.client.displayName)}: book a demo</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style>
<script src="${apiUrl}/t.js" async></script></head>
<body><main><h1>See ${escapeHtml(config.client.displayName)} in action</h1><p>Tell us about your team and we'll be in touch within minutes.</p>
<form method="post" action="${apiUrl}/leads">
<label for="first_name">First name</label><input id="first_name" name="first_name" required>
<label for="last_name">Last name</label><input id="last_name" name="last_name">
<label for="email">Work email</label><input id="email" name="email" type="email" required>
<label for="phone">Phone</label><input id="phone" name="phone" type="tel">
<label for="company">Company</label><input id="company" name="company">
<label for="job_title">Job title</label><input id="job_title" name="job_title">
<label for="company_size">Company size</label><select id="company_size" name="company_size"><option>1-49</option><option>50-199</option><option selected>200-999</option><option>1000-4999</option><option>5000+</option></select>
<label for="industry">Industry</label><select id="industry" name="industry"><option>Software</option><option>SaaS</option><option>Fintech</option><option>Retail</option><option>Other</option></select>
<label for="country">Country</label><input id="country" name="country" value="GB">
<label for="message">What would you like to see?</label><textarea id="message" name="message" rows="3"></textarea>
<label><input type="checkbox" name="marketing_consent" value="yes" style="width:auto"> Send me product news (you can unsubscribe at any time)</label>
<div class="hp" aria-hidden="true"><label for="${hp}">Leave empty</label><input id="${hp}" name="${hp}" tabindex="-1" autocomplete="off"></div>
<input type="hidden" name="utm_source" value="local-demo"><input type="hidden" name="form_id" value="demo-request">
<button type="submit">Book my demo</button></form></main>
${consentBanner(config)}</body></html>`;
}

/** True when a URL stays on this machine (the local API, the recorders). */
function isLocal(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/**
 * Where a redirect lands offline: a redirect that would leave the machine (the client's
 * thank-you page, an allow-listed page of the client's site) goes to the local thank-you page
 * instead, with the original target in `to` and the visitor token both in the query (so the
 * page can tell what happened) and in the fragment (so the tracking script picks it up, as on
 * the real page). Local targets are left alone (`undefined`).
 */
export function localRedirect(location: string, apiUrl: string): string | undefined {
  let target: URL;
  try {
    target = new URL(location);
  } catch {
    return undefined;
  }
  if (isLocal(target)) return undefined;
  const fragment = new URLSearchParams(target.hash.slice(1));
  const token = fragment.get(TOKEN_FRAGMENT_PARAM);
  const next = fragment.get(NEXT_STEP_FRAGMENT_PARAM);
  const original = new URL(target.href);
  original.hash = '';
  const page = new URL(`${apiUrl}${LOCAL_THANK_YOU_PATH}`);
  page.searchParams.set('to', original.href);
  if (token) {
    page.searchParams.set('token', token);
    page.hash = `${TOKEN_FRAGMENT_PARAM}=${encodeURIComponent(token)}`;
  }
  if (next) page.searchParams.set('next', next);
  return page.href;
}

/**
 * The local thank-you page: what happened to the submission (the lead id, whether it was stored),
 * what comes next, where the browser would be on the deployed stack, and links to the local
 * recorders where the rep's alert and the emails show up.
 */
export function thankYouPage(
  url: URL,
  links: PageLinks,
  config: ClientConfig,
  signingKey: string,
  next?: LocalNextStep,
): string {
  const to = url.searchParams.get('to') ?? config.capture.thankYouUrl ?? links.apiUrl;
  const token = url.searchParams.get('token');
  const errorFields =
    url.searchParams.get('lp_fields') ?? new URL(to, links.apiUrl).searchParams.get('lp_fields');
  const verified = token ? verifyToken(token, 'visitor', signingKey, new Date()) : undefined;
  let heading: string;
  let what: string;
  if (verified?.ok) {
    const leadId = escapeHtml(verified.leadId);
    heading = 'Thank you! Your request was received.';
    what = nextStepBlock(next);
    what += `<p>Lead <code id="lead-id">${leadId}</code> was stored. A rep will contact you within minutes
(in working hours); the terminal running <code>npm start</code> shows the lead being scored, assigned and alerted.
If the lead is not sales-ready yet it gets the nurture emails instead.</p>`;
  } else if (token) {
    heading = 'Thank you! (as far as the sender can tell)';
    what = `<p id="not-stored">This submission was <strong>not stored</strong>: the bot checks
(the honeypot field <code>${escapeHtml(config.capture.honeypotField)}</code>, or a form sent less than
${config.capture.minSecondsToSubmit} s after it was shown) caught it. A bot is answered exactly like a person, on purpose;
only this local page tells them apart.</p>`;
  } else if (errorFields) {
    heading = 'The form was not accepted';
    what = `<p>These fields need another look: <code>${escapeHtml(errorFields)}</code>.</p>`;
  } else {
    heading = 'Thank you!';
    what = '<p>The submission was answered; nothing more is known about it here.</p>';
  }
  const list = [
    ['Slack alerts', links.slackRecorderUrl],
    ['SNS alerts', links.snsRecorderUrl],
    ...(links.smsRecorderUrl ? [['Text messages (SMS recorder, reply STOP)', links.smsRecorderUrl]] : []),
    ['Emails (SES inbox)', links.sesInboxUrl],
    ['Step Functions executions (SLA, nurture)', links.executionsUrl],
  ]
    .map(([name, href]) => `<li><a href="${escapeHtml(String(href))}">${escapeHtml(String(name))}</a></li>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(config.client.displayName)}: thank you</title>
<meta name="viewport" content="width=device-width, initial-scale=1">${next?.state === 'pending' ? `<meta http-equiv="refresh" content="${Math.max(1, Math.round(NEXT_STEP_POLL_MS / 1000))}">` : ''}
<style>${STYLE}</style>
<script src="${links.apiUrl}/t.js" async></script></head>
<body><main><h1>${escapeHtml(heading)}</h1>
${what}
<p>Deployed, the browser would now be at <a href="${escapeHtml(to)}"><code>${escapeHtml(to)}</code></a>; offline,
redirects that would leave this machine land here instead.</p>
<h2>Where to look</h2><ul>
${list}
</ul>
<p><a href="${escapeHtml(links.apiUrl)}/">Back to the demo page</a></p></main>
${consentBanner(config)}</body></html>`;
}

/** What the next-step URL answered (its JSON), as the local thank-you page shows it. */
export interface LocalNextStep {
  readonly state: 'pending' | 'offer' | 'thanks';
  readonly offer?: { readonly label: string; readonly bookingUrl: string };
}

/**
 * Asks the next-step URL capture put in the redirect (`next`, from the `lp_next` fragment) what
 * the page should show: a booking offer, a short wait, or the normal thanks. Only local URLs are
 * asked; anything unreadable is the normal thanks.
 */
export async function fetchNextStep(url: URL): Promise<LocalNextStep | undefined> {
  const next = url.searchParams.get('next');
  if (!next) return undefined;
  let target: URL;
  try {
    target = new URL(next);
  } catch {
    return undefined;
  }
  if (!isLocal(target)) return undefined;
  try {
    const response = await fetch(target, { headers: { accept: 'application/json' } });
    if (!response.ok) return { state: 'thanks' };
    return (await response.json()) as LocalNextStep;
  } catch {
    return { state: 'thanks' };
  }
}

/** The booking offer, or a note that the page is still waiting for routing. */
function nextStepBlock(next: LocalNextStep | undefined): string {
  if (next?.state === 'offer' && next.offer) return renderBookingOffer(next.offer);
  if (next?.state === 'pending')
    return '<p data-next-pending>One moment: we are finding the right person for you…</p>';
  return '';
}
