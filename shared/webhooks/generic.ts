import { type FieldPath, fieldPathSegments } from '../domain/field-path';
import { vendorSubmissionFields } from '../domain/form-vendors';
import { compactKey } from '../domain/submission';
import { sharedToken } from './authenticity';
import {
  bodyText,
  boundedId,
  isRecord,
  parseJsonObject,
  sha256Hex,
  text,
  type WebhookAdapter,
  type WebhookPayload,
  type WebhookRequest,
} from './common';

/**
 * Generic JSON webhooks, for any tool that can POST JSON (Zapier, Make, a CRM, a form builder
 * without a dedicated adapter). `webhooks.generic.fieldMap` maps lead fields to paths in the
 * body (`email: contact.email`, `company: company.name`, `phone: contacts.0.phone`; a key with
 * a dot in it, like Gravity Forms' `1.3`, as `1\.3` or `["1.3"]`, see `field-path.ts`); with
 * an empty map the body's top-level keys are read the way the capture endpoint reads a form
 * (a HubSpot Forms submission body included, see `form-vendors.ts`).
 *
 * Authentication: the caller must send the derived shared token
 * (`webhookToken(signingKey, 'generic')`) as `X-Webhook-Token`, `Authorization: Bearer`, or
 * `?token=`. The token is specific to this provider, so it opens nothing else.
 *
 * Deduplication: map `externalId` to the sender's record id; without it, the SHA-256 of the
 * body is the id, so an identical redelivery is a no-op.
 */

export const GENERIC_PROVIDER = 'generic';

const token = sharedToken(GENERIC_PROVIDER);

/** Lead-field names (compact form) that name the sender's own id rather than a lead field. */
const EXTERNAL_ID_KEYS = new Set(['externalid', 'leadid']);

/** Checks the shared token. */
export const verifyGeneric = token.verify;

/** Reads a generic JSON lead using the configured field map. @throws InvalidInputError for a body that is not a JSON object. */
export function parseGeneric(
  request: WebhookRequest,
  fieldMap: Readonly<Record<string, FieldPath>>,
): WebhookPayload {
  const raw = bodyText(request);
  const body = parseJsonObject(raw);
  const mapped = Object.keys(fieldMap).length > 0;
  const fields: Record<string, unknown> = {};
  let externalId: string | undefined;
  const entries = mapped
    ? Object.entries(fieldMap).map(([field, path]) => [field, valueAt(body, path)] as const)
    : Object.entries(vendorSubmissionFields(body));
  for (const [field, value] of entries) {
    if (value === undefined || value === null) continue;
    if (EXTERNAL_ID_KEYS.has(compactKey(field))) {
      externalId ??= text(value);
      continue;
    }
    fields[field] = value;
  }
  return {
    kind: 'leads',
    leads: [{ fields, externalId: externalId ? boundedId(externalId) : `sha256:${sha256Hex(raw)}` }],
  };
}

/** The value at a path (`a.b.0.c`, `1\.3`, `["1.3"]`; list indices are numbers), or `undefined`. */
export function valueAt(body: unknown, path: FieldPath): unknown {
  const reading = fieldPathSegments(path);
  if (!reading.ok) return undefined;
  let current: unknown = body;
  for (const segment of reading.segments) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else if (isRecord(current) && Object.hasOwn(current, segment)) current = current[segment];
    else return undefined;
  }
  return current;
}

/** The generic adapter, listed once in the registry (`index.ts`). */
export const genericAdapter = {
  provider: 'generic',
  configKey: 'generic',
  secret: 'signingKey',
  bindsBody: false,
  verify: token.verify,
  parse: (request, config) => parseGeneric(request, config.generic.fieldMap),
  sign: token.sign,
} as const satisfies WebhookAdapter;
