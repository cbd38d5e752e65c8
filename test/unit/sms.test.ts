import { describe, expect, it } from 'vitest';
import {
  hasSmsConsent,
  OPT_OUT_LINE,
  renderSms,
  replyIntent,
  smsNumber,
  smsParts,
  smsSendTime,
} from '../../shared/domain/sms';

describe('smsParts (GSM-7 and UCS-2 segmenting)', () => {
  it('fits 160 GSM-7 characters in one part and splits longer text in parts of 153', () => {
    expect(smsParts('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, parts: 1 });
    expect(smsParts('a'.repeat(161))).toEqual({ encoding: 'GSM-7', units: 161, parts: 2 });
    expect(smsParts('a'.repeat(306))).toEqual({ encoding: 'GSM-7', units: 306, parts: 2 });
    expect(smsParts('a'.repeat(307))).toEqual({ encoding: 'GSM-7', units: 307, parts: 3 });
  });

  it('counts extension characters twice and never splits an escape pair', () => {
    expect(smsParts('€'.repeat(80))).toEqual({ encoding: 'GSM-7', units: 160, parts: 1 });
    expect(smsParts(`${'a'.repeat(159)}€`)).toEqual({ encoding: 'GSM-7', units: 161, parts: 2 });
    // 152 septets then a two-septet character: it moves whole to the second part.
    expect(smsParts(`${'a'.repeat(152)}${'€'.repeat(76)}`).parts).toBe(2);
    expect(smsParts(`${'a'.repeat(152)}${'€'.repeat(77)}`).parts).toBe(3);
  });

  it('switches to UCS-2 for any character outside the GSM alphabet: 70 units, then parts of 67', () => {
    expect(smsParts('ç'.repeat(70))).toEqual({ encoding: 'UCS-2', units: 70, parts: 1 });
    expect(smsParts(`${'a'.repeat(69)}ł`)).toEqual({ encoding: 'UCS-2', units: 70, parts: 1 });
    expect(smsParts('ł'.repeat(71))).toEqual({ encoding: 'UCS-2', units: 71, parts: 2 });
    expect(smsParts('ł'.repeat(135))).toEqual({ encoding: 'UCS-2', units: 135, parts: 3 });
    // An emoji is a surrogate pair: two units, kept in one part.
    expect(smsParts('😀'.repeat(35))).toEqual({ encoding: 'UCS-2', units: 70, parts: 1 });
    expect(smsParts(`${'a'.repeat(66)}😀`).parts).toBe(1);
    expect(smsParts(`${'a'.repeat(69)}😀`)).toEqual({ encoding: 'UCS-2', units: 71, parts: 2 });
  });
});

describe('replyIntent (two-way keywords)', () => {
  it.each([
    'STOP',
    'stop',
    ' Stop. ',
    'UNSUBSCRIBE',
    'cancel',
    'END',
    'quit',
    'opt out',
    'OPT-OUT',
    'stopall',
    'Arrêt',
  ])('%j opts the number out', (body) => expect(replyIntent(body)).toBe('opt-out'));
  it.each(['START', 'unstop', 'Yes'])('%j opts it back in', (body) =>
    expect(replyIntent(body)).toBe('opt-in'),
  );
  it.each(['Please stop by at 3', 'stopping soon', 'thanks!', ''])('%j is an ordinary message', (body) =>
    expect(replyIntent(body)).toBe('message'),
  );
});

describe('quiet hours in the lead time zone', () => {
  const quiet = { start: '21:00', end: '08:00' };
  it('sends now outside them and at their end inside them, across midnight', () => {
    expect(smsSendTime(quiet, 'Europe/London', new Date('2026-03-02T12:00:00Z')).toISOString()).toBe(
      '2026-03-02T12:00:00.000Z',
    );
    expect(smsSendTime(quiet, 'Europe/London', new Date('2026-03-02T22:30:00Z')).toISOString()).toBe(
      '2026-03-03T08:00:00.000Z',
    );
    expect(smsSendTime(quiet, 'Europe/London', new Date('2026-03-03T05:00:00Z')).toISOString()).toBe(
      '2026-03-03T08:00:00.000Z',
    );
    // 12:00 UTC is 07:00 in New York: quiet there until 08:00 local (13:00 UTC).
    expect(smsSendTime(quiet, 'America/New_York', new Date('2026-03-02T12:00:00Z')).toISOString()).toBe(
      '2026-03-02T13:00:00.000Z',
    );
  });
  it('handles quiet hours within one day', () => {
    expect(
      smsSendTime({ start: '12:00', end: '14:00' }, 'UTC', new Date('2026-03-02T12:30:00Z')).toISOString(),
    ).toBe('2026-03-02T14:00:00.000Z');
  });
});

describe('consent, number and text', () => {
  const lead = (extra: Record<string, string>, phone?: string) => ({
    profile: {
      dedupeKey: 'x',
      isFreeMail: false,
      isDisposable: false,
      droppedFields: [],
      extra,
      ...(phone ? { phone, phoneValid: true } : {}),
    },
  });
  it('reads SMS consent from its own field only', () => {
    expect(hasSmsConsent(lead({ sms_consent: 'yes' }), 'sms_consent')).toBe(true);
    expect(hasSmsConsent(lead({ sms_consent: 'no' }), 'sms_consent')).toBe(false);
    expect(hasSmsConsent(lead({ marketing_consent: 'yes' }), 'sms_consent')).toBe(false);
  });
  it('texts valid E.164 numbers only', () => {
    expect(smsNumber(lead({}, '+447700900456'))).toBe('+447700900456');
    expect(smsNumber(lead({}, '07700 900456'))).toBeUndefined();
    expect(smsNumber(lead({}))).toBeUndefined();
  });
  it('fills placeholders and always appends the opt-out line', () => {
    expect(
      renderSms('Hi {{firstName}}, see you {{meetingTime}}.', {
        firstName: 'Jane',
        meetingTime: 'Thu 3 Dec, 15:00',
      }),
    ).toBe(`Hi Jane, see you Thu 3 Dec, 15:00. ${OPT_OUT_LINE}`);
    expect(renderSms('Hi {{firstName|friend}}!', {})).toBe(`Hi friend! ${OPT_OUT_LINE}`);
  });
});
