/**
 * Text cleaning for untrusted input: control and invisible characters stripped, NFC-normalised,
 * trimmed and cut to a limit. Nothing is HTML-escaped: escaping belongs to where text ends up.
 */

/** Format characters (zero-width space/joiners, BOM, bidi overrides, soft hyphen) and lone surrogates. */
const INVISIBLE = /[\p{Cf}\p{Cs}]/gu;
/** Control characters that are not whitespace (NUL, ESC, DEL...). */
const CONTROL_NOT_SPACE = /[^\P{Cc}\t\n\v\f\r]/gu;
/** Control characters other than newline and tab, for multi-line text. */
const CONTROL_NOT_NEWLINE = /[^\P{Cc}\t\n]/gu;

/**
 * Cuts `text` to at most `max` UTF-16 code units (the unit zod's `.max()` counts) without
 * leaving half a surrogate pair behind, then trims what the cut exposed.
 */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut.trim();
}

/**
 * Makes untrusted text safe to store and compare: removes control characters and invisible
 * format characters (zero-width space, zero-width joiners, BOM, bidi overrides: they spoof
 * names in alerts and split dedupe), NFC-normalises (so "Zoë" typed two ways is one string),
 * collapses whitespace, trims, and cuts to `maxLength`.
 *
 * Zero-width joiners are removed too, although emoji sequences and Persian spelling use them:
 * the visible result is the same letters, and invisible differences in names cost more.
 *
 * `multiline` keeps line breaks (messages): runs of spaces collapse within a line and more than
 * one blank line collapses to one. Idempotent. Case is never changed.
 */
export function cleanText(value: string, maxLength: number, multiline = false): string {
  let text = value.replace(INVISIBLE, '');
  if (multiline) {
    text = text
      .replace(/\r\n?|[\u2028\u2029\v\f]/g, '\n')
      .replace(CONTROL_NOT_NEWLINE, '')
      .normalize('NFC')
      .split('\n')
      .map((line) => line.replace(/\s+/g, ' ').trim())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  } else {
    text = text.replace(CONTROL_NOT_SPACE, '').normalize('NFC').replace(/\s+/g, ' ').trim();
  }
  return truncate(text, maxLength);
}
