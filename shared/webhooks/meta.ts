import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { fieldForKey, guessFieldFromQuestion } from '../domain/submission';
import { verifyHmacHex } from '../domain/tokens';
import { verifySignatureHeader } from './authenticity';
import {
  bodyText,
  boundedId,
  definedOnly,
  hmacSha256,
  isoTime,
  type MetaLeadChange,
  ProviderIdSchema,
  parseJsonObject,
  parseWith,
  type SignatureCheck,
  safeEqual,
  text,
  type WebhookAdapter,
  type WebhookPayload,
  type WebhookRequest,
  zodProblems,
} from './common';

/**
 * Meta (Facebook / Instagram) Lead Ads through Page webhooks, field `leadgen`.
 *
 * - Subscribing: Meta sends `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`; we
 *   answer the challenge as plain text when the token matches `metaVerifyToken`, 403 otherwise.
 * - Delivery: a POST signed with `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body,
 *   keyed with the app secret>`, batching `entry[].changes[]`. A leadgen change carries only ids;
 *   the person's answers are read from the Graph API (`GET /<version>/<leadgen_id>` →
 *   `field_data[{name, values[]}]`) with the page access token.
 *
 * @see https://developers.facebook.com/docs/graph-api/webhooks/getting-started
 * @see https://developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving
 */

/** Result of the subscription handshake. */
export type MetaHandshake =
  | { readonly ok: true; readonly challenge: string }
  | { readonly ok: false; readonly reason: string };

/** Longest challenge echoed back (Meta sends a short number); anything longer is refused. */
const MAX_CHALLENGE_LENGTH = 256;

/** Answers Meta's verification request (`hub.mode`, `hub.verify_token`, `hub.challenge`). */
export function metaHandshake(
  query: Readonly<Record<string, string | undefined>>,
  verifyToken: string,
): MetaHandshake {
  const mode = query['hub.mode'];
  const token = query['hub.verify_token'];
  const challenge = query['hub.challenge'];
  if (mode !== 'subscribe') return { ok: false, reason: 'hub.mode must be "subscribe"' };
  if (!token || !safeEqual(token, verifyToken))
    return { ok: false, reason: 'hub.verify_token does not match' };
  if (!challenge || challenge.length > MAX_CHALLENGE_LENGTH || !/^[\w.-]+$/.test(challenge)) {
    return { ok: false, reason: 'hub.challenge is missing or malformed' };
  }
  return { ok: true, challenge };
}

/** Header Meta signs deliveries with. */
export const META_SIGNATURE_HEADER = 'x-hub-signature-256';

/** Verifies `X-Hub-Signature-256` over the exact body bytes. */
export function verifyMeta(request: WebhookRequest, appSecret: string): SignatureCheck {
  return verifySignatureHeader(request, appSecret, {
    header: META_SIGNATURE_HEADER,
    shownAs: 'X-Hub-Signature-256',
    format: /^sha256=([0-9a-fA-F]{64})$/,
    matches: verifyHmacHex,
  });
}

const LeadgenValueSchema = z.looseObject({
  leadgen_id: ProviderIdSchema,
  form_id: ProviderIdSchema.optional(),
  page_id: ProviderIdSchema.optional(),
  ad_id: ProviderIdSchema.optional(),
  adgroup_id: ProviderIdSchema.optional(),
  created_time: z.union([z.number(), z.string()]).optional(),
});

const MetaBodySchema = z.looseObject({
  object: z.string().optional(),
  entry: z.array(
    z.looseObject({
      id: z.unknown().optional(),
      changes: z.array(z.looseObject({ field: z.string(), value: z.unknown() })).default([]),
    }),
  ),
});

/**
 * Reads a delivery into its leadgen changes. A change that cannot be read is reported in
 * `rejected` and skipped, so one bad change never loses the others; changes for other fields
 * are ignored; a leadgen id repeated in one batch is processed once.
 * @throws InvalidInputError when the body itself is not a Meta webhook batch.
 */
export function parseMeta(request: WebhookRequest): WebhookPayload {
  const body = parseWith(MetaBodySchema, parseJsonObject(bodyText(request)));
  const changes: MetaLeadChange[] = [];
  const rejected: Array<{ field: string; reason: string }> = [];
  const seen = new Set<string>();
  body.entry.forEach((entry, e) => {
    entry.changes.forEach((change, c) => {
      if (change.field !== 'leadgen') return;
      const parsed = LeadgenValueSchema.safeParse(change.value);
      if (!parsed.success) {
        rejected.push(...zodProblems(parsed.error, `entry.${e}.changes.${c}.value`));
        return;
      }
      const value = parsed.data;
      const leadgenId = boundedId(value.leadgen_id);
      if (seen.has(leadgenId)) return;
      seen.add(leadgenId);
      changes.push(
        definedOnly({
          leadgenId,
          formId: nonZero(value.form_id),
          pageId: nonZero(value.page_id),
          adId: nonZero(value.ad_id),
          adgroupId: nonZero(value.adgroup_id),
          createdTime: isoTime(value.created_time),
        }),
      );
    });
  });
  if (changes.length === 0 && rejected.length === 0) {
    return { kind: 'ignored', reason: 'the delivery has no leadgen changes' };
  }
  return { kind: 'meta', changes, rejected };
}

/** Meta sends `0` for ids it does not know (organic leads have no ad). */
function nonZero(id: string | undefined): string | undefined {
  return id === undefined || id === '0' ? undefined : boundedId(id);
}

// ---------------------------------------------------------------------------------------------
// Graph API lead

/** A lead as returned by `GET /<version>/<leadgen_id>`. */
export const MetaGraphLeadSchema = z.looseObject({
  id: ProviderIdSchema,
  created_time: z.string().optional(),
  field_data: z
    .array(
      z.looseObject({
        name: z.string(),
        values: z.array(z.union([z.string(), z.number(), z.boolean()])).default([]),
      }),
    )
    .default([]),
});
export type MetaGraphLead = z.output<typeof MetaGraphLeadSchema>;

/** Meta's standard question keys that our aliases would not recognise, renamed. */
const META_FIELD_RENAMES: Readonly<Record<string, string>> = {
  work_phone_number: 'telephone',
};
/** Standard keys read first, so a work address wins over a personal one on B2B forms. */
const META_FIELD_RANK = ['work_email', 'email', 'phone_number', 'work_phone_number'];

/**
 * Maps a Graph lead (and the webhook change it came from) to intake fields. Advertisers can give
 * even standard questions their own keys (`mobile_for_callback`, `what_is_your_work_email?`):
 * such a key is read as the standard field its words name (see `guessFieldFromQuestion`) when
 * the lead does not already have that field, so the phone or email is not lost in `extra`.
 */
export function metaLeadFields(lead: MetaGraphLead, change: MetaLeadChange): Record<string, unknown> {
  const rank = (name: string) => {
    const i = META_FIELD_RANK.indexOf(name);
    return i < 0 ? META_FIELD_RANK.length : i;
  };
  const fields: Record<string, unknown> = {};
  const answered = new Set<string>();
  const sorted = [...lead.field_data].sort((a, b) => rank(a.name) - rank(b.name));
  // Keys that are aliases claim their field first, whatever their order in the form.
  for (const field of sorted) {
    const known = fieldForKey(META_FIELD_RENAMES[field.name] ?? field.name);
    if (known) answered.add(known);
  }
  for (const field of sorted) {
    const values = field.values.map((v) => text(v)).filter((v): v is string => v !== undefined);
    if (values.length === 0) continue;
    let key = META_FIELD_RENAMES[field.name] ?? field.name;
    if (fieldForKey(key) === undefined) {
      const guessed = guessFieldFromQuestion(field.name);
      if (guessed !== undefined && !answered.has(guessed)) {
        answered.add(guessed);
        key = guessed;
      }
    }
    if (key in fields) continue;
    fields[key] = values.join(', ');
  }
  return Object.assign(fields, definedOnly({ form_id: change.formId, meta_ad_id: change.adId }));
}

/** Base of the Graph API. */
export const GRAPH_API_ORIGIN = 'https://graph.facebook.com';

/**
 * The Graph URL of a lead. The access token travels in the `Authorization` header, never in the
 * URL (URLs end up in logs); `appsecret_proof` is added when the app secret is known, which Meta
 * requires when the app enables "Require App Secret" and accepts otherwise.
 */
export function metaGraphLeadUrl(version: string, leadgenId: string, appsecretProof?: string): string {
  const url = new URL(`${GRAPH_API_ORIGIN}/${encodeURIComponent(version)}/${encodeURIComponent(leadgenId)}`);
  if (appsecretProof) url.searchParams.set('appsecret_proof', appsecretProof);
  return url.toString();
}

/** `appsecret_proof`: hex HMAC-SHA256 of the access token keyed with the app secret. */
export function appSecretProof(accessToken: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(accessToken, 'utf8').digest('hex');
}

/** The meta adapter, listed once in the registry (`index.ts`). */
export const metaAdapter = {
  provider: 'meta',
  configKey: 'meta',
  secret: 'metaAppSecret',
  bindsBody: true,
  verify: (request, secret) => verifyMeta(request, secret),
  parse: (request) => parseMeta(request),
  sign: (body, secret) => ({
    body,
    headers: { [META_SIGNATURE_HEADER]: `sha256=${hmacSha256(secret, body, 'hex')}` },
  }),
} as const satisfies WebhookAdapter;
