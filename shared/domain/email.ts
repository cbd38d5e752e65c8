import { z } from 'zod';
import { readDataFile, SortedLines } from './bundled-data';
import { TEXT_LIMITS } from './lead';

/**
 * Email addresses: canonical form, the dedupe identity, and whether the domain says anything
 * about the lead's company.
 *
 * Free-mail providers come from `email-providers` (its `all.json`, ~8.7k domains: gmail.com,
 * gmx.de, yahoo.co.uk...). Disposable domains come from `mailchecker`'s list (~56k domains),
 * its `blacklist()` set rather than `isValid()`, because `isValid()` also fails addresses on
 * syntax and we need the two answers apart. Both lists are built into compact data files at
 * build time and read on first use (see `bundled-data.ts`).
 */

/**
 * What a lead's address must look like: the HTML5 `input[type=email]` local part (so every
 * address a browser form accepts passes, including RFC "atext" such as `o'brien` or `a&b`),
 * without leading, trailing or doubled dots, and a domain with at least one dot and an alphabetic
 * (or punycode) top-level label. Single-label hosts (`a@localhost`) are not lead addresses.
 */
const LEAD_EMAIL_PATTERN =
  /^(?!\.)(?!.*\.\.)(?!.*\.@)[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/** Message used for every rejected address, so forms can show one clear sentence. */
export const INVALID_EMAIL = 'not a valid email address';

/** Zod schema of a lead's email after {@link canonicalEmail}; see `LEAD_EMAIL_PATTERN` for the rules. */
export const LeadEmailSchema = z
  .email({ pattern: LEAD_EMAIL_PATTERN, error: INVALID_EMAIL })
  .max(TEXT_LIMITS.email, { error: `${INVALID_EMAIL} (longer than ${TEXT_LIMITS.email} characters)` });

/** Invisible characters that sneak in from copy-paste (zero-width space, BOM, bidi marks...). */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}]/gu;

/**
 * The canonical spelling of an address: control and invisible characters removed, trimmed, a
 * `mailto:` prefix dropped, lower-cased, and an internationalised domain turned into its ASCII
 * (punycode) form, which is what mail servers and SES expect. Not validated: pass the result to
 * {@link LeadEmailSchema}. Idempotent.
 *
 * Lower-casing the local part is technically lossy (RFC 5321 lets a server treat `Bob` and `bob`
 * differently) but no mainstream mailbox provider does, and case differences would split dedupe.
 */
export function canonicalEmail(raw: string): string {
  // Inner spaces are kept: "jane doe@acme.com" must fail validation, not become another address.
  let email = raw.normalize('NFC').replace(INVISIBLE, '').trim().toLowerCase();
  if (email.startsWith('mailto:')) email = email.slice('mailto:'.length).trim();
  const at = email.lastIndexOf('@');
  if (at > 0) {
    const domain = email.slice(at + 1);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching "anything outside ASCII" is the point.
    if (/[^\x00-\x7f]/.test(domain)) email = `${email.slice(0, at + 1)}${toAsciiDomain(domain)}`;
  }
  return email;
}

/** Punycode for an internationalised domain via the WHATWG URL parser; unchanged when unparseable. */
function toAsciiDomain(domain: string): string {
  try {
    const host = new URL(`http://${domain}/`).hostname;
    return host.length > 0 ? host : domain;
  } catch {
    return domain;
  }
}

/** Whether a canonical address is acceptable as a lead's email. */
export function isValidLeadEmail(email: string): boolean {
  return LeadEmailSchema.safeParse(email).success;
}

/** The domain part of an address (after the last `@`), or `undefined` without one. */
export function emailDomain(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (at < 0 || at === email.length - 1) return undefined;
  return email.slice(at + 1).toLowerCase();
}

/** Gmail ignores dots in the local part, and googlemail.com is the same mailbox as gmail.com. */
const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

/**
 * The identity used to deduplicate leads by email: the canonical address with a `+tag` removed
 * (for every provider: sub-addressing is near-universal and a tag never names another person)
 * and, for gmail.com / googlemail.com, dots in the local part removed and the domain folded to
 * gmail.com. So `Jane.Doe+webinar@googlemail.com` and `janedoe@gmail.com` are one lead.
 *
 * The stored and displayed email stays as typed (canonical); only the key is folded, because
 * "jane.doe" is how the person writes their own address.
 */
export function emailDedupeKey(email: string): string {
  const canonical = canonicalEmail(email);
  const at = canonical.lastIndexOf('@');
  if (at <= 0) return canonical;
  let local = canonical.slice(0, at);
  let domain = canonical.slice(at + 1);
  const plus = local.indexOf('+');
  // A leading "+" is the whole local part, not a tag.
  if (plus > 0) local = local.slice(0, plus);
  if (GMAIL_DOMAINS.has(domain)) {
    domain = 'gmail.com';
    const undotted = local.replace(/\./g, '');
    if (undotted.length > 0) local = undotted;
  }
  return `${local}@${domain}`;
}

let freeMailList: SortedLines | undefined;
let disposableList: SortedLines | undefined;

/** email-providers' free-mail domains, read on first use. */
function freeMail(): SortedLines {
  freeMailList ??= new SortedLines(readDataFile('free-mail-domains.txt.br'));
  return freeMailList;
}

/** mailchecker's disposable domains, read on first use. */
function disposableDomains(): SortedLines {
  disposableList ??= new SortedLines(readDataFile('disposable-domains.txt.br'));
  return disposableList;
}

/**
 * Whether a domain (or any parent domain: `foo.mailinator.com`) is a known disposable,
 * throw-away mail service, according to mailchecker's list. Mirrors mailchecker's own lookup.
 */
export function isDisposableDomain(domain: string): boolean {
  const list = disposableDomains();
  let current = domain.toLowerCase();
  for (;;) {
    if (list.has(current)) return true;
    const dot = current.indexOf('.');
    if (dot < 0) return false;
    current = current.slice(dot + 1);
  }
}

/**
 * Whether mail at this domain says nothing about the lead's employer: a consumer mailbox
 * provider (gmail.com, gmx.de, outlook.com...) or a disposable service. Disposable domains count
 * as free-mail on purpose: scoring rules that penalise "not a company address" should catch them
 * too, while {@link isDisposableDomain} stays available for the stronger junk signal.
 */
export function isFreeMailDomain(domain: string): boolean {
  const d = domain.toLowerCase();
  return freeMail().has(d) || isDisposableDomain(d);
}

/** Facts derived from a lead's (canonical, valid) email. */
export interface EmailFacts {
  /** Canonical address, as stored. */
  email: string;
  /** Identity for dedupe; see {@link emailDedupeKey}. */
  dedupeKey: string;
  /** Domain of the address. */
  domain: string;
  /** Consumer or disposable mailbox: the domain is not the company's. */
  isFreeMail: boolean;
  /** Throw-away address. */
  isDisposable: boolean;
  /**
   * The email's domain when it is a company domain (not free-mail, not disposable), without a
   * leading `www.` like {@link domainFromWebsite}, so both sources agree on one spelling.
   */
  companyDomain?: string;
}

/** Derives {@link EmailFacts} from a canonical address; `undefined` when it has no domain. */
export function emailFacts(email: string): EmailFacts | undefined {
  const domain = emailDomain(email);
  if (!domain) return undefined;
  const isDisposable = isDisposableDomain(domain);
  const isFreeMail = isDisposable || freeMail().has(domain);
  return {
    email,
    dedupeKey: emailDedupeKey(email),
    domain,
    isFreeMail,
    isDisposable,
    ...(isFreeMail ? {} : { companyDomain: withoutWww(domain) }),
  };
}

/** `www.acme.com` → `acme.com` (also `www2.`...), unless nothing dotted would remain. */
function withoutWww(host: string): string {
  const stripped = host.replace(/^www\d*\./, '');
  return stripped.includes('.') ? stripped : host;
}

/**
 * The company domain behind a website as typed on a form ("www.acme.com/about",
 * "https://Shop.Acme.co.uk"): the host, lower-case, punycode, without a leading `www.`.
 *
 * @returns `undefined` when the value is not an http(s) URL or bare host with a dotted name
 * (an IP address or "localhost" is not a company domain).
 */
export function domainFromWebsite(website: string): string | undefined {
  const trimmed = website.trim();
  if (trimmed.length === 0) return undefined;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let host: string;
  try {
    const url = new URL(withScheme);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    host = url.hostname;
  } catch {
    return undefined;
  }
  host = withoutWww(host.replace(/\.$/, ''));
  if (!/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(host)) {
    return undefined;
  }
  return host.length <= 253 ? host : undefined;
}
