import type { EmailTemplate } from '../config/schema';
import { escapeHtml } from './html';
import type { Lead } from './lead';

/**
 * Rendering of the emails the pipeline sends to leads (nurture steps and the auto-response):
 * personalising a client template from the lead, the compliance footer (postal address and a
 * signed unsubscribe link), RFC 8058 one-click unsubscribe headers, sender formatting and the
 * SES message tags that let SES events find their way back to the lead.
 *
 * Templates are rendered here rather than by SES templates so that (a) personal values are
 * HTML-escaped in the HTML part only (SES/Handlebars would escape the subject and text part too,
 * turning "O'Brien" into "O&#39;Brien"), (b) a missing first name falls back to friendly text
 * instead of an asynchronous SES rendering failure, and (c) the same bytes go to real SES and to
 * the local emulator. Pure: no I/O, no clock.
 */

/** Placeholders a template may use, e.g. `{{firstName}}` or `{{company|your team}}`. */
export const PLACEHOLDERS = [
  'firstName',
  'lastName',
  'fullName',
  'company',
  'jobTitle',
  'email',
  'city',
  'senderName',
  'postalAddress',
  'unsubscribeUrl',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Text used when a template does not name its own fallback and the lead lacks the value. */
export const DEFAULT_FALLBACKS: Readonly<Partial<Record<Placeholder, string>>> = {
  firstName: 'there',
  fullName: 'there',
  company: 'your company',
};

/**
 * `{{ name }}` or `{{ name | fallback text }}`. The fallback may not contain braces; whitespace
 * around the name and the fallback is ignored.
 */
const PLACEHOLDER_PATTERN = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*(?:\|([^{}]*))?\}\}/g;

/** Values for the placeholders; `undefined` means "not known for this lead". */
export type TemplateValues = Readonly<Partial<Record<Placeholder, string | undefined>>>;

/** A rendered email body: subject, HTML part and plain-text part. */
export interface RenderedEmail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/** Everything the footer and headers need besides the lead. */
export interface EmailContext {
  /** Display name of the sender (`config.email.fromName`). */
  readonly senderName: string;
  /** Postal address shown in every email (`config.email.postalAddress`, CAN-SPAM). */
  readonly postalAddress: string;
  /** The lead's signed one-click unsubscribe URL (see {@link unsubscribeUrl}). */
  readonly unsubscribeUrl: string;
}

/** One message header as SES v2 takes it. */
export interface MessageHeader {
  readonly name: string;
  readonly value: string;
}

/** Control characters (line breaks included): never allowed in a subject or header. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

function oneLine(text: string): string {
  return text.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
}

function isPlaceholder(name: string): name is Placeholder {
  return (PLACEHOLDERS as readonly string[]).includes(name);
}

/** The placeholder names a template uses, in order of first appearance (unknown names included). */
export function placeholdersIn(template: EmailTemplate): string[] {
  const names = new Set<string>();
  for (const part of [template.subject, template.html, template.text]) {
    for (const match of part.matchAll(PLACEHOLDER_PATTERN)) if (match[1]) names.add(match[1]);
  }
  return [...names];
}

/** Placeholder names a template uses that {@link renderTemplate} does not know (typos such as `{{firstname}}`). */
export function unknownPlaceholders(template: EmailTemplate): string[] {
  return placeholdersIn(template).filter((name) => !isPlaceholder(name));
}

/**
 * Longest personal value put into an email. The values come from public forms, so they are
 * bounded well below the profile limits: a name or company that long is not one, and the slot
 * would otherwise carry a message of the submitter's choosing under the client's name.
 */
export const TEMPLATE_VALUE_LIMITS = { name: 40, company: 80, jobTitle: 80, city: 60 } as const;

/** A web address: a scheme, `www.`, or a dotted host name with a top-level domain (`evil.example`). */
const URL_LIKE = /[a-z][a-z0-9+.-]*:\/\/|\bwww\.|[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}\b/iu;
/** Markup, entities or an email address. */
const MARKUP_OR_ADDRESS = /[<>]|&[#a-z0-9]+;|@/i;
/** What a person's name is made of: letters and marks, spaces, apostrophes, hyphens and dots. */
const NAME_LIKE = /^[\p{L}\p{M}][\p{L}\p{M}' .\u2019-]*$/u;

/**
 * A value a visitor typed, made safe to put in an email the client's domain sends: on one line,
 * with no web address, email address or markup (such a value is dropped, not trimmed, so no
 * remainder of a planted message is sent), a person's name made of name characters only, and
 * cut to `max` characters at a word boundary. `undefined` (so the template's neutral fallback
 * is used, "Hi there") when nothing usable is left.
 */
export function safeTemplateValue(
  value: string | undefined,
  max: number,
  kind: 'name' | 'text',
): string | undefined {
  const text = value === undefined ? '' : oneLine(value);
  if (text === '' || URL_LIKE.test(text) || MARKUP_OR_ADDRESS.test(text)) return undefined;
  if (kind === 'name' && !NAME_LIKE.test(text)) return undefined;
  if (text.length <= max) return text;
  const cut = text.slice(0, max + 1);
  const atWord = cut.slice(0, Math.max(cut.lastIndexOf(' '), 0)).trim();
  return atWord === '' ? undefined : atWord;
}

/**
 * The personalisation values of a lead: its profile fields made safe by
 * {@link safeTemplateValue}; absent, blank or unusable fields are `undefined`. The lead's own
 * address is kept as it is (it is where the email goes).
 */
export function leadValues(lead: Pick<Lead, 'profile'>, context: EmailContext): TemplateValues {
  const p = lead.profile;
  const limits = TEMPLATE_VALUE_LIMITS;
  const firstName = safeTemplateValue(p.firstName, limits.name, 'name');
  const lastName = safeTemplateValue(p.lastName, limits.name, 'name');
  const email = p.email === undefined ? '' : oneLine(p.email);
  return {
    firstName,
    lastName,
    fullName: firstName && lastName ? `${firstName} ${lastName}` : (firstName ?? lastName),
    company: safeTemplateValue(p.company, limits.company, 'text'),
    jobTitle: safeTemplateValue(p.jobTitle, limits.jobTitle, 'text'),
    email: email === '' ? undefined : email,
    city: safeTemplateValue(p.city, limits.city, 'text'),
    senderName: context.senderName,
    postalAddress: context.postalAddress,
    unsubscribeUrl: context.unsubscribeUrl,
  };
}

/**
 * Replaces the placeholders of one template part. Unknown names and unknown values become the
 * placeholder's own fallback, else the default fallback, else nothing.
 */
function fill(part: string, values: TemplateValues, encode: (text: string) => string): string {
  return part.replace(PLACEHOLDER_PATTERN, (_match, name: string, fallback: string | undefined) => {
    const value = isPlaceholder(name) ? values[name] : undefined;
    const given = fallback?.trim();
    const text =
      value ??
      (given !== undefined && given !== '' ? given : isPlaceholder(name) ? DEFAULT_FALLBACKS[name] : '');
    return encode(text ?? '');
  });
}

/**
 * Personalises a template. Values are HTML-escaped in the HTML part (the template's own markup
 * is trusted: it comes from the reviewed client file); the subject is forced onto one line so a
 * value can never inject a header.
 */
export function renderTemplate(template: EmailTemplate, values: TemplateValues): RenderedEmail {
  return {
    subject: oneLine(fill(template.subject, values, oneLine)),
    html: fill(template.html, values, escapeHtml),
    text: fill(template.text, values, (t) => t),
  };
}

/** The visible compliance footer, HTML. `ses:no-track` keeps SES click tracking off the unsubscribe link. */
export function footerHtml(context: EmailContext): string {
  const name = escapeHtml(context.senderName);
  return (
    '<div style="margin-top:32px;padding-top:12px;border-top:1px solid #dddddd;font-size:12px;line-height:1.5;color:#666666">' +
    `<p style="margin:0 0 6px">${name} &middot; ${escapeHtml(context.postalAddress)}</p>` +
    `<p style="margin:0">Don&#39;t want these emails from ${name}? ` +
    `<a ses:no-track href="${escapeHtml(context.unsubscribeUrl)}" style="color:#666666">Unsubscribe</a></p>` +
    '</div>'
  );
}

/** The visible compliance footer, plain text. */
export function footerText(context: EmailContext): string {
  return `\n\n--\n${context.senderName}, ${context.postalAddress}\nDon't want these emails? Unsubscribe: ${context.unsubscribeUrl}\n`;
}

/** Adds the footer: inside `<body>` when the HTML has one, else at the end. */
export function withFooter(email: RenderedEmail, context: EmailContext): RenderedEmail {
  const footer = footerHtml(context);
  const bodyEnd = email.html.search(/<\/body\s*>(?![\s\S]*<\/body\s*>)/i);
  const html =
    bodyEnd >= 0
      ? `${email.html.slice(0, bodyEnd)}${footer}${email.html.slice(bodyEnd)}`
      : `${email.html}${footer}`;
  return { subject: email.subject, html, text: `${email.text.replace(/\s+$/, '')}${footerText(context)}` };
}

/** Personalises `template` for `lead` and appends the footer: the email as the lead will read it. */
export function renderLeadEmail(
  template: EmailTemplate,
  lead: Pick<Lead, 'profile'>,
  context: EmailContext,
): RenderedEmail {
  return withFooter(renderTemplate(template, leadValues(lead, context)), context);
}

/** The public unsubscribe URL for a signed token; `apiUrl` is the API base URL (`API_URL`). */
export function unsubscribeUrl(apiUrl: string, token: string): string {
  return `${apiUrl.replace(/\/+$/, '')}/unsubscribe?token=${encodeURIComponent(token)}`;
}

/**
 * RFC 2369 / RFC 8058 headers: mailbox providers show an "Unsubscribe" button and POST
 * `List-Unsubscribe=One-Click` to the URL without the person visiting a page.
 */
export function listUnsubscribeHeaders(url: string): MessageHeader[] {
  return [
    { name: 'List-Unsubscribe', value: `<${url}>` },
    { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
  ];
}

/** Largest UTF-8 chunk per RFC 2047 encoded word: 45 bytes → 60 base64 characters + 12 of framing ≤ 75. */
const ENCODED_WORD_BYTES = 45;

/** RFC 2047 `B` encoded words for non-ASCII text, split on character boundaries. */
function encodedWords(text: string): string {
  const words: string[] = [];
  let chunk = '';
  for (const char of text) {
    if (Buffer.byteLength(chunk + char, 'utf8') > ENCODED_WORD_BYTES) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(' ');
}

/**
 * `"Display Name" <address>` as SES accepts it: an ASCII name as a quoted string (quotes and
 * backslashes escaped), a non-ASCII name as RFC 2047 encoded words.
 */
export function formatMailbox(name: string, address: string): string {
  const display = oneLine(name);
  if (display === '') return address;
  if (/^[\x20-\x7e]*$/.test(display)) return `"${display.replace(/(["\\])/g, '\\$1')}" <${address}>`;
  return `${encodedWords(display)} <${address}>`;
}

/** Message tag names the pipeline puts on every email; SES events carry them back in `mail.tags`. */
export const EMAIL_TAGS = { leadId: 'lead_id', sequence: 'sequence', step: 'step', kind: 'kind' } as const;

/** Why an email was sent: a nurture step or the auto-response to a request. */
export type EmailKind = 'nurture' | 'auto-response';

/** SES tag values may only hold ASCII letters, digits, `_` and `-`, up to 256 characters; anything else becomes `_`. */
export function tagValue(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256);
  return cleaned === '' ? '_' : cleaned;
}

/** The message tags of a lead email. */
export function emailTags(input: {
  leadId: string;
  sequenceId: string;
  stepId: string;
  kind: EmailKind;
}): Array<{ name: string; value: string }> {
  return [
    { name: EMAIL_TAGS.leadId, value: tagValue(input.leadId) },
    { name: EMAIL_TAGS.sequence, value: tagValue(input.sequenceId) },
    { name: EMAIL_TAGS.step, value: tagValue(input.stepId) },
    { name: EMAIL_TAGS.kind, value: input.kind },
  ];
}
