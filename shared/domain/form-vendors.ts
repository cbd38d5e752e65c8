/**
 * Submissions as form vendors post them to the capture endpoint, turned into the flat record of
 * fields that normalisation reads. Pure; `functions/capture/handler.ts` applies it to every
 * body before the bot checks.
 *
 * - **HubSpot Forms** (the Forms API v3 submission body, which sites replacing HubSpot's
 *   endpoint post as is): `fields: [{objectTypeId, name, value}]`, `context` (`hutk`,
 *   `pageUri`, `pageName`, `ipAddress`), `legalConsentOptions`. A multi-select answer
 *   (`Dashboards;Data warehouse`) becomes a list. Marketing consent is the subscription
 *   checkboxes (`consent.communications[].value`): `consentToProcess` alone and a legitimate
 *   interest basis are not consent to marketing email, so they record none. The visitor's IP
 *   address is not kept: nothing here needs it, and it is personal data.
 * - **Salesforce Web-to-Lead**: standard names (`first_name`, `title`, `lead_source`...) are
 *   aliases; `retURL` is the redirect (see `capture.ts`); `oid` and the debug switches are
 *   plumbing; `emailOptOut` checked is a "no" to marketing; custom fields (`00N...`) keep their
 *   id in `extra` unless the client file names them (`capture.fieldMap`).
 * - **Contact Form 7**: `your-name`, `your-email`, `your-message`, `tel-NNN`, `email-NNN` are
 *   aliases in `submission.ts`; `your-subject` is kept in `extra`.
 * - Any form: `capture.fieldMap` renames a posted field to a lead field or an extra key.
 */

import { compactKey, fieldForKey } from './submission';

/** HubSpot's object type of company properties (contacts are `0-1`). */
const HUBSPOT_COMPANY_OBJECT = '0-2';
/** The field a vendor's marketing-consent answer is recorded under (a consent alias). */
export const MARKETING_CONSENT_FIELD = 'marketing_consent';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Whether a body is a HubSpot Forms submission: `fields` is a list of `{name, value}`. */
export function isHubSpotSubmission(body: Record<string, unknown>): boolean {
  const { fields } = body;
  return (
    Array.isArray(fields) &&
    fields.length > 0 &&
    fields.every((f) => isRecord(f) && typeof f.name === 'string')
  );
}

/**
 * A HubSpot answer as a lead field value: multi-select answers (`A;B`) of fields that are not
 * standard lead fields become a list; standard fields (a message may contain `;`) stay text.
 */
function hubSpotValue(name: string, value: string): string | string[] {
  if (!value.includes(';') || fieldForKey(name) !== undefined) return value;
  const options = value
    .split(';')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
  return options.length > 1 ? options : (options[0] ?? '');
}

/** Flattens a HubSpot Forms submission (see the module comment). */
export function hubSpotFields(body: Record<string, unknown>): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  const add = (name: string, value: unknown) => {
    const existing = flat[name];
    if (existing === undefined) flat[name] = value;
    else
      flat[name] = [
        ...(Array.isArray(existing) ? existing : [existing]),
        ...(Array.isArray(value) ? value : [value]),
      ];
  };
  for (const field of body.fields as Array<Record<string, unknown>>) {
    const value = scalarText(field.value);
    if (value === undefined) continue;
    let name = String(field.name);
    // A company property `name` is the company's name, not the person's.
    if (field.objectTypeId === HUBSPOT_COMPANY_OBJECT && compactKey(name) === 'name') name = 'company';
    add(name, hubSpotValue(name, value));
  }
  const context = isRecord(body.context) ? body.context : {};
  const pageUri = scalarText(context.pageUri);
  const pageName = scalarText(context.pageName);
  const hutk = scalarText(context.hutk);
  if (pageUri !== undefined && flat.landing_page === undefined) flat.landing_page = pageUri;
  if (pageName !== undefined) flat.page_name = pageName;
  if (hutk !== undefined) flat.hubspotutk = hutk;
  const consent = hubSpotMarketingConsent(body.legalConsentOptions);
  if (consent !== undefined) flat[MARKETING_CONSENT_FIELD] = consent ? 'yes' : 'no';
  // Anything else at the top level (our own plumbing: `_ts`, `_vid`, `redirect`) is kept.
  for (const [key, value] of Object.entries(body)) {
    if (
      !['fields', 'context', 'legalConsentOptions', 'submittedAt', 'skipValidation'].includes(key) &&
      !(key in flat)
    )
      flat[key] = value;
  }
  return flat;
}

/** Marketing consent from `legalConsentOptions.consent.communications`, when the form asked. */
function hubSpotMarketingConsent(options: unknown): boolean | undefined {
  if (!isRecord(options) || !isRecord(options.consent)) return undefined;
  const { communications } = options.consent;
  if (!Array.isArray(communications) || communications.length === 0) return undefined;
  return communications.some((c) => isRecord(c) && (c.value === true || c.value === 'true'));
}

/** Salesforce Web-to-Lead's opt-out checkbox: checked means no marketing email. */
function salesforceOptOut(fields: Record<string, unknown>): Record<string, unknown> {
  const key = Object.keys(fields).find((k) => compactKey(k) === 'emailoptout');
  if (key === undefined) return fields;
  const { [key]: optOut, ...rest } = fields;
  const checked = ['1', 'on', 'true', 'yes'].includes(compactKey(scalarText(optOut) ?? ''));
  return checked ? { ...rest, [MARKETING_CONSENT_FIELD]: 'no' } : rest;
}

/**
 * The fields of a submission as normalisation should read them: a vendor's shape flattened,
 * then the client's renames (`capture.fieldMap`: posted name → lead field or extra key).
 */
export function vendorSubmissionFields(
  body: Record<string, unknown>,
  fieldMap: Readonly<Record<string, string>> = {},
): Record<string, unknown> {
  let fields = isHubSpotSubmission(body) ? hubSpotFields(body) : body;
  fields = salesforceOptOut(fields);
  if (Object.keys(fieldMap).length === 0) return withoutUndefined(fields);
  const renamed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    const target = fieldMap[key] ?? key;
    if (renamed[target] === undefined) renamed[target] = value;
  }
  return withoutUndefined(renamed);
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}
