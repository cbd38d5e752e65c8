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
  type LinkedInLeadNoticeRef,
  parseJsonObject,
  parseWith,
  type SignatureCheck,
  text,
  type WebhookAdapter,
  type WebhookPayload,
  type WebhookRequest,
} from './common';

/**
 * LinkedIn Lead Gen Forms through Lead Sync webhooks (event type `LEAD_ACTION`).
 *
 * - Validation: LinkedIn sends `GET ?challengeCode=<uuid>` when the webhook is registered and
 *   every two hours; we answer JSON `{challengeCode, challengeResponse}` where
 *   `challengeResponse` is the hex HMAC-SHA256 of the code keyed with the app's client secret.
 * - Delivery: a POST with `X-LI-Signature: <hex HMAC-SHA256 of "hmacsha256=" + the raw body>`,
 *   keyed with the same client secret. The body names the lead (`leadGenFormResponse` URN), its
 *   form (`leadGenForm`, a versioned form URN), `leadType`, `leadAction` (CREATED / DELETED)
 *   and `occurredAt`. LinkedIn may deliver a notification more than once.
 * - The answers live in the Lead Sync API: `GET /rest/leadFormResponses/{id}` gives
 *   `formResponse.answers[{questionId, answerDetails}]` and the consents; `GET
 *   /rest/leadForms/{id}` names each question (`predefinedField` such as `EMAIL`, or the
 *   advertiser's `name`). Both need an access token with `r_marketing_leadgen_automation`.
 *
 * @see https://learn.microsoft.com/en-us/linkedin/shared/api-guide/webhook-validation
 * @see https://learn.microsoft.com/en-us/linkedin/marketing/lead-sync/leadsync
 */

export const LINKEDIN_SIGNATURE_HEADER = 'x-li-signature';

/** What LinkedIn's signature covers: this prefix, then the body bytes as received. */
const SIGNED_PREFIX = Buffer.from('hmacsha256=', 'utf8');

/** Verifies `X-LI-Signature` over `hmacsha256=` + the exact body bytes. */
export function verifyLinkedIn(request: WebhookRequest, clientSecret: string): SignatureCheck {
  return verifySignatureHeader(request, clientSecret, {
    header: LINKEDIN_SIGNATURE_HEADER,
    shownAs: 'X-LI-Signature',
    format: /^(?:hmacsha256=)?([0-9a-fA-F]{64})$/i,
    matches: (body, secret, hex) => verifyHmacHex(Buffer.concat([SIGNED_PREFIX, body]), secret, hex),
  });
}

/** Answer to LinkedIn's endpoint validation. */
export type LinkedInValidation =
  | { readonly ok: true; readonly challengeCode: string; readonly challengeResponse: string }
  | { readonly ok: false; readonly reason: string };

/** Answers `GET ?challengeCode=…` (a type-4 UUID; anything else long or odd is refused). */
export function linkedInValidation(
  query: Readonly<Record<string, string | undefined>>,
  clientSecret: string,
): LinkedInValidation {
  const challengeCode = query.challengeCode;
  if (!challengeCode || challengeCode.length > 100 || !/^[\w-]+$/.test(challengeCode)) {
    return { ok: false, reason: 'challengeCode is missing or malformed' };
  }
  const challengeResponse = createHmac('sha256', clientSecret).update(challengeCode, 'utf8').digest('hex');
  return { ok: true, challengeCode, challengeResponse };
}

/**
 * One created lead a notification points at: the response id (last part of the
 * `leadGenFormResponse` URN, bounded), the versioned form URN and the form's numeric id, the
 * lead type (SPONSORED, EVENT, COMPANY, ORGANIZATION_PRODUCT) and when it was submitted.
 */
export type LinkedInLeadNotice = LinkedInLeadNoticeRef;

const NotificationSchema = z.looseObject({
  type: z.string(),
  leadGenFormResponse: z.string().min(1).optional(),
  leadGenForm: z.string().optional(),
  leadType: z.string().optional(),
  leadAction: z.string().optional(),
  occurredAt: z.union([z.number(), z.string()]).optional(),
});

/** The last segment of a URN (`urn:li:leadGenFormResponse:abc-1` → `abc-1`). */
function urnId(urn: string): string {
  return urn.slice(urn.lastIndexOf(':') + 1).replace(/\)$/, '');
}

/** The form id inside `urn:li:versionedLeadGenForm:(urn:li:leadGenForm:123,1)` or `urn:li:leadGenForm:123`. */
export function linkedInFormId(urn: string | undefined): string | undefined {
  return urn ? /urn:li:leadGenForm:(\d+)/.exec(urn)?.[1] : undefined;
}

/**
 * Reads a Lead Sync notification. Only created leads are taken in; a deletion (the member or
 * LinkedIn removed the lead) and other event types are acknowledged and ignored.
 * @throws InvalidInputError naming the field when the body is not a notification.
 */
export function parseLinkedIn(request: WebhookRequest): WebhookPayload {
  const body = parseWith(NotificationSchema, parseJsonObject(bodyText(request)));
  if (body.type !== 'LEAD_ACTION')
    return { kind: 'ignored', reason: `event type ${body.type} is not a lead` };
  if (body.leadAction !== undefined && body.leadAction !== 'CREATED') {
    return { kind: 'ignored', reason: `lead action ${body.leadAction} is not a new lead` };
  }
  const urn = parseWith(
    z.string({ error: 'expected the lead URN' }).min(1),
    body.leadGenFormResponse,
    'leadGenFormResponse',
  );
  const notice: LinkedInLeadNotice = definedOnly({
    responseId: boundedId(urnId(urn)),
    formUrn: body.leadGenForm,
    formId: linkedInFormId(body.leadGenForm),
    leadType: text(body.leadType),
    occurredAt:
      typeof body.occurredAt === 'number'
        ? new Date(body.occurredAt).toISOString()
        : isoTime(body.occurredAt),
  });
  return { kind: 'linkedin', leads: [notice] };
}

// ---------------------------------------------------------------------------------------------
// Lead Sync API records

const Localized = z.looseObject({ localized: z.record(z.string(), z.string()).optional() }).optional();

/** A lead form response (`GET /rest/leadFormResponses/{id}`). */
export const LinkedInFormResponseSchema = z.looseObject({
  id: z.string().optional(),
  testLead: z.boolean().optional(),
  submittedAt: z.number().optional(),
  leadMetadata: z
    .looseObject({ sponsoredLeadMetadata: z.looseObject({ campaign: z.string().optional() }).optional() })
    .optional(),
  formResponse: z
    .looseObject({
      answers: z
        .array(
          z.looseObject({
            questionId: z.union([z.number(), z.string()]),
            answerDetails: z
              .looseObject({
                textQuestionAnswer: z.looseObject({ answer: z.string() }).optional(),
                multipleChoiceAnswer: z
                  .looseObject({ options: z.array(z.union([z.number(), z.string()])) })
                  .optional(),
              })
              .optional(),
          }),
        )
        .default([]),
      consentResponses: z
        .array(z.looseObject({ accepted: z.boolean(), consentId: z.unknown().optional() }))
        .default([]),
    })
    .default({ answers: [], consentResponses: [] }),
});
export type LinkedInFormResponse = z.output<typeof LinkedInFormResponseSchema>;

/** A lead form (`GET /rest/leadForms/{id}`): the questions, to name the answers. */
export const LinkedInLeadFormSchema = z.looseObject({
  id: z.union([z.number(), z.string()]).optional(),
  name: z.string().optional(),
  content: z
    .looseObject({
      questions: z
        .array(
          z.looseObject({
            questionId: z.union([z.number(), z.string()]),
            name: z.string().optional(),
            predefinedField: z.string().optional(),
            question: Localized,
            questionDetails: z
              .looseObject({
                multipleChoiceQuestionDetails: z
                  .looseObject({
                    options: z
                      .array(z.looseObject({ id: z.union([z.number(), z.string()]), text: Localized }))
                      .default([]),
                  })
                  .optional(),
              })
              .optional(),
          }),
        )
        .default([]),
    })
    .default({ questions: [] }),
});
export type LinkedInLeadForm = z.output<typeof LinkedInLeadFormSchema>;

/** LinkedIn's predefined fields under names intake understands (the rest keep their question name). */
const PREDEFINED_FIELDS: Readonly<Record<string, string>> = {
  FIRST_NAME: 'first_name',
  LAST_NAME: 'last_name',
  EMAIL: 'email',
  WORK_EMAIL: 'work_email',
  PHONE_NUMBER: 'phone',
  WORK_PHONE_NUMBER: 'work_phone',
  COMPANY_NAME: 'company',
  JOB_TITLE: 'job_title',
  COUNTRY: 'country',
  CITY: 'city',
  COMPANY_SIZE: 'company_size',
  INDUSTRY: 'industry',
  COMPANY_WEBSITE: 'website',
};
/** Answered first, so a work address wins over a personal one on B2B forms. */
const PREDEFINED_RANK = ['WORK_EMAIL', 'EMAIL', 'WORK_PHONE_NUMBER', 'PHONE_NUMBER'];

function firstLocalized(
  value: { localized?: Record<string, string> | undefined } | undefined,
): string | undefined {
  return value?.localized ? Object.values(value.localized)[0] : undefined;
}

/**
 * Turns a form response and its form into intake fields: predefined questions under their lead
 * field, custom questions under their name (or the standard field their name asks for), choice
 * answers as option texts, a ticked consent as marketing consent, and the campaign URN.
 */
export function linkedInLeadFields(
  response: LinkedInFormResponse,
  form: LinkedInLeadForm | undefined,
  notice: Pick<LinkedInLeadNotice, 'formId'>,
): Record<string, unknown> {
  const questions = new Map((form?.content.questions ?? []).map((q) => [String(q.questionId), q]));
  const rank = (id: string) => {
    const i = PREDEFINED_RANK.indexOf(questions.get(id)?.predefinedField ?? '');
    return i < 0 ? PREDEFINED_RANK.length : i;
  };
  const answers = [...response.formResponse.answers].sort(
    (a, b) => rank(String(a.questionId)) - rank(String(b.questionId)),
  );
  const fields: Record<string, unknown> = {};
  const answered = new Set<string>();
  for (const answer of answers) {
    const question = questions.get(String(answer.questionId));
    const details = answer.answerDetails;
    let value: string | string[] | undefined = text(details?.textQuestionAnswer?.answer);
    if (value === undefined && details?.multipleChoiceAnswer) {
      const options = question?.questionDetails?.multipleChoiceQuestionDetails?.options ?? [];
      value = details.multipleChoiceAnswer.options.map(
        (id) => firstLocalized(options.find((o) => String(o.id) === String(id))?.text) ?? String(id),
      );
    }
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    let key =
      PREDEFINED_FIELDS[question?.predefinedField ?? ''] ?? question?.name ?? `question_${answer.questionId}`;
    const standard = fieldForKey(key) ?? guessFieldFromQuestion(key);
    if (standard !== undefined) {
      if (answered.has(standard) && key in fields) continue;
      if (!fieldForKey(key) && !answered.has(standard)) key = standard;
      answered.add(standard);
    }
    if (key in fields) continue;
    fields[key] = value;
  }
  const consents = response.formResponse.consentResponses;
  if (consents.length > 0) fields.marketing_consent = consents.some((c) => c.accepted) ? 'yes' : 'no';
  const campaign = response.leadMetadata?.sponsoredLeadMetadata?.campaign;
  return Object.assign(
    fields,
    definedOnly({
      form_id: notice.formId,
      linkedin_campaign: campaign ? urnId(campaign) : undefined,
    }),
  );
}

/** The linkedin adapter, listed once in the registry (`index.ts`). */
export const linkedinAdapter = {
  provider: 'linkedin',
  configKey: 'linkedin',
  // The app's client secret: it signs deliveries and the endpoint validation.
  secret: 'linkedinClientSecret',
  bindsBody: true,
  verify: (request, secret) => verifyLinkedIn(request, secret),
  parse: (request) => parseLinkedIn(request),
  sign: (body, secret) => ({
    body,
    headers: { [LINKEDIN_SIGNATURE_HEADER]: hmacSha256(secret, `hmacsha256=${body}`, 'hex') },
  }),
} as const satisfies WebhookAdapter;
