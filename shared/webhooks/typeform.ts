import { z } from 'zod';
import { InvalidInputError } from '../domain/errors';
import { compactKey, FIELD_ALIASES } from '../domain/submission';
import { verifyHmacBase64 } from '../domain/tokens';
import { verifySignatureHeader } from './authenticity';
import {
  bodyText,
  boundedId,
  definedOnly,
  hmacSha256,
  ProviderIdSchema,
  parseJsonObject,
  parseWith,
  type SignatureCheck,
  text,
  type WebhookAdapter,
  type WebhookLead,
  type WebhookPayload,
  type WebhookRequest,
} from './common';

/**
 * Typeform `form_response` webhooks. Typeform signs the raw body with HMAC-SHA256 keyed with the
 * webhook's secret and sends `Typeform-Signature: sha256=<base64 digest>`. A response lists
 * `answers` (each pointing at a field by id, with the field's `type` and `ref`), the form
 * `definition` (field titles) and `hidden` fields (typically UTM parameters passed in the URL).
 *
 * @see https://www.typeform.com/developers/webhooks/secure-your-webhooks/
 * @see https://www.typeform.com/developers/webhooks/example-payload/
 */

export const TYPEFORM_SIGNATURE_HEADER = 'typeform-signature';

/** Verifies `Typeform-Signature` over the exact body bytes. */
export function verifyTypeform(request: WebhookRequest, secret: string): SignatureCheck {
  return verifySignatureHeader(request, secret, {
    header: TYPEFORM_SIGNATURE_HEADER,
    shownAs: 'Typeform-Signature',
    format: /^sha256=([A-Za-z0-9+/]+={0,2})$/,
    matches: verifyHmacBase64,
  });
}

const FieldRefSchema = z.looseObject({
  id: z.string(),
  type: z.string().optional(),
  ref: z.string().optional(),
});

const AnswerSchema = z.looseObject({
  type: z.string(),
  field: FieldRefSchema,
  text: z.string().optional(),
  email: z.string().optional(),
  phone_number: z.string().optional(),
  url: z.string().optional(),
  file_url: z.string().optional(),
  date: z.string().optional(),
  number: z.number().optional(),
  boolean: z.boolean().optional(),
  choice: z.looseObject({ label: z.string().optional(), other: z.string().optional() }).optional(),
  choices: z.looseObject({ labels: z.array(z.string()).optional(), other: z.string().optional() }).optional(),
});
type Answer = z.output<typeof AnswerSchema>;

export const TypeformEventSchema = z.looseObject({
  event_id: z.string().optional(),
  event_type: z.string(),
  form_response: z
    .looseObject({
      form_id: ProviderIdSchema.optional(),
      token: ProviderIdSchema,
      submitted_at: z.string().optional(),
      hidden: z.record(z.string(), z.unknown()).optional(),
      calculated: z.looseObject({ score: z.number().optional() }).optional(),
      definition: z
        .looseObject({
          title: z.string().optional(),
          fields: z.array(FieldRefSchema.extend({ title: z.string().optional() })).default([]),
        })
        .optional(),
      answers: z.array(AnswerSchema).default([]),
    })
    .optional(),
});
export type TypeformEvent = z.output<typeof TypeformEventSchema>;

/** Reads a Typeform webhook. @throws InvalidInputError naming the bad field. */
export function parseTypeform(request: WebhookRequest): WebhookPayload {
  const event = parseWith(TypeformEventSchema, parseJsonObject(bodyText(request)));
  if (event.event_type !== 'form_response') {
    return { kind: 'ignored', reason: `event_type "${event.event_type}" is not a submitted form` };
  }
  if (!event.form_response) {
    throw new InvalidInputError([{ field: 'form_response', reason: 'required for a form_response event' }]);
  }
  return { kind: 'leads', leads: [typeformLead(event.form_response)] };
}

type FormResponse = NonNullable<TypeformEvent['form_response']>;

/**
 * Maps a form response to intake fields. Each answer is named, in order of preference: `email`
 * / `phone` by answer type; the field's `ref` when a form builder gave it a readable one
 * (`company`, `job_title`); the question title, reduced to a field name when it asks for one
 * ("What's your first name?" → `first name`); the field id. Hidden fields follow (answers win).
 */
export function typeformLead(response: FormResponse): WebhookLead {
  const titles = new Map((response.definition?.fields ?? []).map((f) => [f.id, f.title]));
  const fields: Record<string, unknown> = {};
  for (const answer of response.answers) {
    const value = answerValue(answer);
    if (value === undefined) continue;
    const key = answerKey(answer, titles.get(answer.field.id), fields);
    if (!(key in fields)) fields[key] = value;
  }
  for (const [key, raw] of Object.entries(response.hidden ?? {})) {
    const value = text(raw);
    if (value !== undefined && !(key in fields)) fields[key] = value;
  }
  Object.assign(
    fields,
    definedOnly({ form_id: response.form_id, typeform_score: response.calculated?.score || undefined }),
  );
  return { fields, externalId: boundedId(response.token) };
}

function answerValue(answer: Answer): string | boolean | undefined {
  switch (answer.type) {
    case 'boolean':
      return answer.boolean;
    case 'number':
      return answer.number === undefined ? undefined : String(answer.number);
    case 'choice':
      return text(answer.choice?.label ?? answer.choice?.other);
    case 'choices': {
      const all = [
        ...(answer.choices?.labels ?? []),
        ...(answer.choices?.other ? [answer.choices.other] : []),
      ];
      return all.length > 0 ? all.join(', ') : undefined;
    }
    default: {
      const key = answer.type as 'text' | 'email' | 'phone_number' | 'url' | 'file_url' | 'date';
      return text(answer[key]);
    }
  }
}

/** Typeform's generated refs (UUIDs, ULIDs) say nothing; hand-written ones ("company") do. */
function isReadableRef(ref: string | undefined): ref is string {
  if (!ref || ref.trim() === '') return false;
  return (
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref) &&
    !/^[0-9A-Z]{26}$/.test(ref)
  );
}

const ALIASES: ReadonlySet<string> = new Set(Object.values(FIELD_ALIASES).flat());

/** A question title reduced to what it asks for: "What's your first name?" → "first name". */
function titleField(title: string): string | undefined {
  const stripped = title
    .replace(/\{\{[^}]*\}\}/g, ' ')
    .toLowerCase()
    .replace(/[?:*!.]+\s*$/u, '')
    .replace(/^\s*(what(?:'|’)?s|what is|please (?:enter|share|tell us)|enter|tell us)\s+/u, '')
    .replace(/^\s*(your|the)\s+/u, '')
    .trim();
  return ALIASES.has(compactKey(stripped)) ? stripped : undefined;
}

function answerKey(answer: Answer, title: string | undefined, taken: Record<string, unknown>): string {
  if (answer.type === 'email' && !('email' in taken)) return 'email';
  if (answer.type === 'phone_number' && !('phone' in taken)) return 'phone';
  const ref = answer.field.ref;
  if (isReadableRef(ref)) return ref;
  if (title) return titleField(title) ?? title;
  return answer.field.id;
}

/** The typeform adapter, listed once in the registry (`index.ts`). */
export const typeformAdapter = {
  provider: 'typeform',
  configKey: 'typeform',
  secret: 'typeformSecret',
  bindsBody: true,
  verify: (request, secret) => verifyTypeform(request, secret),
  parse: (request) => parseTypeform(request),
  sign: (body, secret) => ({
    body,
    headers: { [TYPEFORM_SIGNATURE_HEADER]: `sha256=${hmacSha256(secret, body, 'base64')}` },
  }),
} as const satisfies WebhookAdapter;
