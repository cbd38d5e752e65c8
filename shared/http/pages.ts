import type { ClientConfig } from '../config/schema';
import type { BookingOffer, NextStep } from '../domain/booking';
import { parseHttpUrl } from '../domain/capture';
import type { FieldProblem } from '../domain/errors';
import { escapeHtml } from '../domain/html';

/**
 * The small HTML pages the API answers browsers with: the problems page and message pages a
 * plain form post gets from capture, and the thank-you page with the booking offer. The domain
 * decides what to say (which fields are wrong, whether there is an offer); these pages only
 * format it. Every piece of text is HTML-escaped.
 */

/** "firstName" → "First name", "utm_source" → "Utm source": field names as a visitor reads them. */
export function fieldLabel(field: string): string {
  const words = field
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.length > 0 ? `${words[0]?.toUpperCase()}${words.slice(1)}` : field;
}

/** A page link, or `undefined`; only http(s) URLs ever become `href`s. */
function safeHref(url: string | undefined): string | undefined {
  return url === undefined ? undefined : parseHttpUrl(url)?.href;
}

/**
 * The one HTML shell every page the API answers browsers with uses (capture, next step,
 * unsubscribe): not indexed, no Referer sent on (a token in the URL stays put), the same small
 * style. `title` is escaped here; `body` must already be escaped HTML.
 */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1f2933}h1{font-size:1.5rem}li{margin:.25rem 0}a{color:#0b5cad}button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#0b5cad;color:#fff;cursor:pointer}small{color:#52606d}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}

function backParagraph(backUrl: string | undefined): string {
  const href = safeHref(backUrl);
  const link = href ? ` <a href="${escapeHtml(href)}">Back to the form</a>` : '';
  return `<p>Use your browser's Back button to return to the form with your entries kept.${link}</p>`;
}

/**
 * The page a plain form post gets when fields are missing or invalid: every field and why,
 * and a way back. Every piece of text is HTML-escaped; the back link is used only when it is
 * an http(s) URL (pass one that passed {@link allowedRedirect}).
 */
export function renderProblemsPage(problems: readonly FieldProblem[], backUrl?: string): string {
  const items = problems
    .map((p) => `<li><strong>${escapeHtml(fieldLabel(p.field))}</strong>: ${escapeHtml(p.reason)}</li>`)
    .join('\n');
  return htmlPage(
    'Please check your details',
    `<p>We could not send your details because some fields need attention:</p>
<ul>
${items}
</ul>
${backParagraph(backUrl)}`,
  );
}

/** A page with a title, one escaped message and a way back (413, 415, 503 answers to form posts). */
export function renderMessagePage(title: string, message: string, backUrl?: string): string {
  return htmlPage(title, `<p>${escapeHtml(message)}</p>\n${backParagraph(backUrl)}`);
}

/**
 * The booking offer as an HTML fragment (escaped), shared by the API's thank-you page and the
 * offline one. `data-booking-offer` lets tests and page scripts find it.
 */
export function renderBookingOffer(offer: Pick<BookingOffer, 'label' | 'bookingUrl'>): string {
  return `<section class="booking-offer" data-booking-offer>
<p>You qualify for a call right away: pick a time that suits you, your details are already filled in.</p>
<p><a class="button" id="book-a-time" href="${escapeHtml(offer.bookingUrl)}" rel="noopener">${escapeHtml(offer.label)}</a></p>
</section>`;
}

/**
 * The thank-you page the API serves for a next-step URL (deployed stacks with no thank-you URL
 * of their own). No script: while `pending` the page reloads itself (`<meta http-equiv=refresh>`),
 * so it works under any Content-Security-Policy and without JavaScript.
 */
export function renderNextStepPage(step: NextStep, config: ClientConfig): string {
  const who = step.firstName ? `, ${escapeHtml(step.firstName)}` : '';
  const title = `Thank you${who}!`;
  let body: string;
  if (step.state === 'offer') body = renderBookingOffer(step.offer);
  else if (step.state === 'pending')
    body = '<p aria-live="polite" data-next-pending>One moment: we are finding the right person for you…</p>';
  else body = '<p data-next-thanks>We have your request; someone from our team will be in touch soon.</p>';
  const refresh =
    step.state === 'pending'
      ? `<meta http-equiv="refresh" content="${Math.max(1, Math.round(step.retryAfterMs / 1000))}">`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">${refresh}
<title>${escapeHtml(config.client.displayName)}: ${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1f2933}h1{font-size:1.5rem}.button{display:inline-block;padding:.7rem 1.4rem;background:#2563eb;color:#fff;border-radius:.3rem;text-decoration:none}</style>
</head>
<body><main><h1>${title}</h1>
${body}
</main></body></html>`;
}
