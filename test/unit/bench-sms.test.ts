import { describe, expect, it } from 'vitest';
import { countTransitions } from '../../bench/asl';
import { nurturePath, smsBench } from '../../bench/sms';
import { NURTURE_STATES } from '../../infra/constructs/workflows';
import { loadClientConfig } from '../../shared/config/load';

const example = loadClientConfig('example', 'clients');

describe('bench SMS model', () => {
  it('prices every configured text by its parts at the default country price', () => {
    const sms = smsBench(example);
    expect(sms.country).toBe('GB');
    expect(sms.texts.map((t) => [t.text, t.encoding, t.parts])).toEqual([
      ['meeting reminder', 'GSM-7', 1],
      ['education/pricing-reminder', 'GSM-7', 1],
    ]);
    for (const t of sms.texts) expect(t.usdPerSend).toBeCloseTo(t.parts * sms.usdPerPart, 10);
    const a = sms.assumptions;
    expect(sms.usdPer1000Leads).toBeCloseTo(
      a.bookedMeetingsPer1000Leads * sms.usdPerPart + 1000 * a.smsConsentShareOfNurtured * sms.usdPerPart,
      3,
    );
  });

  it('prices a long reminder with a non-GSM character as several UCS-2 parts', () => {
    const text = `Ciao {{firstName}}, ci vediamo ${'presto '.repeat(18)}— a presto.`;
    const sms = smsBench({ ...example, sms: { ...example.sms, meetingReminder: { text } } });
    expect(sms.texts[0]).toMatchObject({ encoding: 'UCS-2', parts: 3 });
  });

  it('costs nothing for a client without SMS', () => {
    expect(smsBench({ ...example, sms: { ...example.sms, enabled: false } })).toMatchObject({
      texts: [],
      usdPer1000Leads: 0,
    });
  });
});

describe('nurture default path', () => {
  // The generated shape for a two-step sequence whose steps may branch elsewhere.
  const s = (name: string) => name;
  const definition = {
    StartAt: NURTURE_STATES.sequence,
    States: {
      [NURTURE_STATES.sequence]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.sequenceId', StringEquals: 'q', Next: s('Wait q 1') }],
        Default: NURTURE_STATES.unknown,
      },
      'Wait q 1': { Type: 'Wait', Seconds: 1, Next: 'Send q 1' },
      'Send q 1': { Type: 'Task', Resource: 'x', Next: 'After q 1' },
      'After q 1': {
        Type: 'Choice',
        Choices: [
          { Variable: '$.result.outcome', StringEquals: 'stop', Next: NURTURE_STATES.stopped },
          { Variable: '$.result.goto', StringEquals: 'q/b', Next: 'Wait q 2' },
        ],
        Default: NURTURE_STATES.done,
      },
      'Wait q 2': { Type: 'Wait', Seconds: 1, Next: 'Send q 2' },
      'Send q 2': { Type: 'Task', Resource: 'x', Next: 'After q 2' },
      'After q 2': { Type: 'Choice', Choices: [], Default: NURTURE_STATES.done },
      [NURTURE_STATES.stopped]: { Type: 'Succeed' },
      [NURTURE_STATES.done]: { Type: 'Succeed' },
      [NURTURE_STATES.unknown]: { Type: 'Succeed' },
    },
  };
  const template = { subject: 's', html: 'h', text: 't' };
  const sequence = {
    id: 'q',
    name: 'Q',
    steps: [
      { id: 'a', waitHours: 1, channel: 'email' as const, template, branches: [] },
      { id: 'b', waitHours: 1, channel: 'email' as const, template, branches: [] },
    ],
  };

  it('walks every step on the default path, and stops at the first send without consent', () => {
    expect(countTransitions(definition as never, nurturePath(definition as never, sequence, true))).toBe(8);
    expect(countTransitions(definition as never, nurturePath(definition as never, sequence, false))).toBe(5);
  });
});
