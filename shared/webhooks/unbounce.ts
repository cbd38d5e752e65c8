import { InvalidInputError } from '../domain/errors';
import { sharedToken } from './authenticity';
import {
  bodyText,
  boundedId,
  definedOnly,
  isRecord,
  parseJsonObject,
  sha256Hex,
  text,
  type WebhookAdapter,
  type WebhookLead,
  type WebhookPayload,
  type WebhookRequest,
} from './common';

/**
 * Unbounce form-submit webhooks. Unbounce POSTs `application/x-www-form-urlencoded` with
 * `data.json` (a JSON string mapping each form field id to an ARRAY of values, plus
 * `page_uuid`, `variant`, `time_submitted`, `date_submitted`, `page_url`, `page_name`,
 * `ip_address`) next to `page_id`, `page_url`, `page_name` and `variant`.
 *
 * Unbounce signs nothing and sends no shared secret, so authenticity cannot come from the
 * request itself. This endpoint therefore requires the derived shared token
 * (`webhookToken(signingKey, 'unbounce')`) in an `X-Webhook-Token` header (Unbounce lets a
 * webhook carry custom headers) or, failing that, as `?token=` in the webhook URL.
 *
 * @see https://documentation.unbounce.com/hc/en-us/articles/203510044-Using-a-Webhook
 */

export const UNBOUNCE_PROVIDER = 'unbounce';

const token = sharedToken(UNBOUNCE_PROVIDER);

/** Checks the shared token (Unbounce has no signature of its own). */
export const verifyUnbounce = token.verify;

/** Submission metadata Unbounce adds to `data.json`: read for attribution, not stored as answers. */
const PLUMBING = new Set([
  'page_uuid',
  'variant',
  'time_submitted',
  'date_submitted',
  'page_url',
  'page_name',
  // The visitor's IP is personal data the sales team does not need (data minimisation).
  'ip_address',
]);

/** Reads an Unbounce submission. @throws InvalidInputError naming the bad field. */
export function parseUnbounce(request: WebhookRequest): WebhookPayload {
  const { dataJson, top } = readEnvelope(request);
  const data = parseJsonObject(dataJson, 'data.json');
  const first = (key: string): string | undefined => {
    const value = data[key];
    return text(Array.isArray(value) ? value[0] : value);
  };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (PLUMBING.has(key)) continue;
    const values = (Array.isArray(value) ? value : [value]).map(text).filter((v) => v !== undefined);
    if (values.length > 0) fields[key] = values.join(', ');
  }
  const pageId = top.page_id ?? first('page_uuid');
  Object.assign(
    fields,
    definedOnly({
      landing_page: top.page_url ?? first('page_url'),
      form_id: pageId,
      unbounce_page: top.page_name ?? first('page_name'),
      unbounce_variant: top.variant ?? first('variant'),
    }),
  );
  const lead: WebhookLead = { fields, externalId: unbounceExternalId(pageId, dataJson) };
  return { kind: 'leads', leads: [lead] };
}

/**
 * Unbounce gives a submission no id, and `time_submitted` has minute precision (two visitors in
 * the same minute would collide). The hash of `data.json` is stable across redeliveries of one
 * submission and different for any two submissions, so it is the id.
 */
export function unbounceExternalId(pageId: string | undefined, dataJson: string): string {
  return boundedId(`${pageId ?? 'page'}:${sha256Hex(dataJson).slice(0, 32)}`);
}

function readEnvelope(request: WebhookRequest): {
  dataJson: string;
  top: Partial<Record<'page_id' | 'page_url' | 'page_name' | 'variant', string>>;
} {
  const body = bodyText(request);
  if (request.contentType === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(body);
    const dataJson = form.get('data.json');
    if (!dataJson)
      throw new InvalidInputError([{ field: 'data.json', reason: 'required: the submitted form data' }]);
    const get = (key: string) => text(form.get(key) ?? undefined);
    return {
      dataJson,
      top: definedOnly({
        page_id: get('page_id'),
        page_url: get('page_url'),
        page_name: get('page_name'),
        variant: get('variant'),
      }),
    };
  }
  // A webhook switched to JSON: either the same envelope, or the data object itself.
  const parsed = parseJsonObject(body);
  const inner = parsed['data.json'];
  if (typeof inner === 'string') {
    return {
      dataJson: inner,
      top: definedOnly({
        page_id: text(parsed.page_id),
        page_url: text(parsed.page_url),
        page_name: text(parsed.page_name),
        variant: text(parsed.variant),
      }),
    };
  }
  if (isRecord(inner)) return { dataJson: JSON.stringify(inner), top: {} };
  return { dataJson: body, top: {} };
}

/** The unbounce adapter, listed once in the registry (`index.ts`). */
export const unbounceAdapter = {
  provider: 'unbounce',
  configKey: 'unbounce',
  secret: 'signingKey',
  bindsBody: false,
  verify: token.verify,
  parse: (request) => parseUnbounce(request),
  sign: token.sign,
} as const satisfies WebhookAdapter;
