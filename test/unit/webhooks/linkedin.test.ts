import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../shared/domain/errors';
import {
  LinkedInFormResponseSchema,
  LinkedInLeadFormSchema,
  linkedInFormId,
  linkedInLeadFields,
  linkedInValidation,
  parseLinkedIn,
  verifyLinkedIn,
} from '../../../shared/webhooks/linkedin';
import { hmac, webhookRequest } from './request';

const CLIENT_SECRET = 'WPL_AP1.linkedin-client-secret';
const BODY = JSON.stringify({
  type: 'LEAD_ACTION',
  leadGenFormResponse: 'urn:li:leadGenFormResponse:abc-123-4',
  leadGenForm: 'urn:li:versionedLeadGenForm:(urn:li:leadGenForm:5501,2)',
  owner: { sponsoredAccount: 'urn:li:sponsoredAccount:50810' },
  leadType: 'SPONSORED',
  leadAction: 'CREATED',
  occurredAt: 1764579600000,
});

describe('verifyLinkedIn', () => {
  it('checks the hex HMAC-SHA256 of "hmacsha256=" + the raw body, keyed with the client secret', () => {
    const signature = hmac(CLIENT_SECRET, `hmacsha256=${BODY}`);
    expect(verifyLinkedIn(webhookRequest(BODY, { 'X-LI-Signature': signature }), CLIENT_SECRET)).toEqual({
      ok: true,
    });
    // The HMAC of the body alone (without the prefix) is not LinkedIn's signature.
    expect(
      verifyLinkedIn(webhookRequest(BODY, { 'X-LI-Signature': hmac(CLIENT_SECRET, BODY) }), CLIENT_SECRET).ok,
    ).toBe(false);
    expect(
      verifyLinkedIn(webhookRequest(`${BODY} `, { 'X-LI-Signature': signature }), CLIENT_SECRET).ok,
    ).toBe(false);
    expect(verifyLinkedIn(webhookRequest(BODY), CLIENT_SECRET)).toEqual({
      ok: false,
      reason: 'missing X-LI-Signature header',
    });
  });
});

describe('linkedInValidation', () => {
  it('answers the challenge code with its HMAC, and refuses odd codes', () => {
    const challengeCode = '890e4665-4dfe-4ab1-b689-ed553bceeed0';
    expect(linkedInValidation({ challengeCode }, CLIENT_SECRET)).toEqual({
      ok: true,
      challengeCode,
      challengeResponse: hmac(CLIENT_SECRET, challengeCode),
    });
    expect(linkedInValidation({ challengeCode: '<script>' }, CLIENT_SECRET).ok).toBe(false);
    expect(linkedInValidation({}, CLIENT_SECRET).ok).toBe(false);
  });
});

describe('parseLinkedIn', () => {
  it('reads a created lead: response id, form id, lead type, time', () => {
    expect(parseLinkedIn(webhookRequest(BODY))).toEqual({
      kind: 'linkedin',
      leads: [
        {
          responseId: 'abc-123-4',
          formUrn: 'urn:li:versionedLeadGenForm:(urn:li:leadGenForm:5501,2)',
          formId: '5501',
          leadType: 'SPONSORED',
          occurredAt: '2025-12-01T09:00:00.000Z',
        },
      ],
    });
    expect(linkedInFormId('urn:li:leadGenForm:77')).toBe('77');
  });

  it('names the missing lead URN', () => {
    const body = JSON.stringify({ type: 'LEAD_ACTION', leadAction: 'CREATED' });
    try {
      parseLinkedIn(webhookRequest(body));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).problems[0]?.field).toBe('leadGenFormResponse');
    }
  });
});

describe('linkedInLeadFields', () => {
  it('names answers by predefined field, reads custom questions that ask for a phone as the phone, test leads and consent', () => {
    const response = LinkedInFormResponseSchema.parse({
      testLead: true,
      formResponse: {
        answers: [
          { questionId: 11, answerDetails: { textQuestionAnswer: { answer: 'tom@gmail.example' } } },
          { questionId: 12, answerDetails: { textQuestionAnswer: { answer: 'tom@initech.example' } } },
          { questionId: 13, answerDetails: { textQuestionAnswer: { answer: '+1 212 555 0100' } } },
          { questionId: 14, answerDetails: { textQuestionAnswer: { answer: 'Q3' } } },
        ],
        consentResponses: [{ accepted: false, consentId: 1 }],
      },
    });
    const form = LinkedInLeadFormSchema.parse({
      content: {
        questions: [
          { questionId: 11, name: 'email', predefinedField: 'EMAIL' },
          { questionId: 12, name: 'workEmail', predefinedField: 'WORK_EMAIL' },
          { questionId: 13, name: 'best_mobile_to_reach_you' },
          { questionId: 14, name: 'buying_timeline' },
        ],
      },
    });
    expect(linkedInLeadFields(response, form, { formId: '5501' })).toEqual({
      work_email: 'tom@initech.example',
      email: 'tom@gmail.example',
      phone: '+1 212 555 0100',
      buying_timeline: 'Q3',
      marketing_consent: 'no',
      form_id: '5501',
    });
  });
});
