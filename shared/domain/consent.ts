import type { Consent } from './lead';

/**
 * Marketing consent as the law has it: an opt-in counts only as recorded (what the person agreed
 * to, when, and where), and an opt-out takes effect at once, whatever said yes before and
 * wherever it comes from (form, webhook, unsubscribe link, API). Nurture reads `consent` before
 * every send (`nurtureExitReason`), so a recorded opt-out stops the next email.
 */

/**
 * The statement a submission made, ready to store: an opt-in carries the wording the person
 * agreed to (`client.consentText`) when the client file has it.
 */
export function consentStatement(
  statement: Consent | undefined,
  text: string | undefined,
): Consent | undefined {
  if (!statement) return undefined;
  return statement.marketing && text !== undefined ? { ...statement, text } : statement;
}

/**
 * The consent a lead holds after a new statement. No statement keeps what is recorded. A newer
 * statement replaces an older one, so a later opt-in is kept as well as a later opt-out; between
 * statements of the same instant, the opt-out wins. An opt-in never lifts an unsubscribe: that
 * is `lead.unsubscribed` and the suppression list, which nothing submitted can clear.
 */
export function nextConsent(
  current: Consent | undefined,
  statement: Consent | undefined,
): Consent | undefined {
  if (!statement) return current;
  if (!current) return statement;
  if (statement.at > current.at) return statement;
  if (statement.at === current.at && !statement.marketing) return statement;
  return current;
}
