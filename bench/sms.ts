import { readFileSync } from 'node:fs';
import { NURTURE_STATES } from '../infra/constructs/workflows';
import type { ClientConfig, NurtureSequence } from '../shared/config/schema';
import { defaultTarget, targetKey } from '../shared/domain/nurture-graph';
import { renderSms, smsParts } from '../shared/domain/sms';
import type { AslDefinition } from './asl';

/**
 * The benchmark's SMS model and the nurture machine's default path, kept out of `bench/main.ts`
 * (which calls {@link attachSmsBench} once and walks nurture with {@link nurturePath}).
 *
 * SMS cost is counted in billed message parts: each configured text (an SMS step, the meeting
 * reminder) is rendered with a sample name and the opt-out line, then split as the carrier does
 * (`smsParts`: GSM-7 in 160/153-septet parts, UCS-2 in 70/67-unit parts), and priced per part
 * from `bench/sms-pricing.json` for the client's default country.
 */

interface SmsPricing {
  readonly perPartUsd: Record<string, number>;
  readonly defaultCountry: string;
  readonly status: string;
  readonly source: string;
  readonly assumptions: {
    readonly bookedMeetingsPer1000Leads: number;
    readonly smsConsentShareOfNurtured: number;
    readonly sampleFirstName: string;
    readonly sampleMeetingTime: string;
  };
}

/** One configured text: where it comes from, its encoding, parts and price per send. */
export interface SmsTextCost {
  readonly text: string;
  readonly encoding: string;
  readonly characters: number;
  readonly parts: number;
  readonly usdPerSend: number;
}

export interface SmsBench {
  readonly country: string;
  readonly usdPerPart: number;
  readonly texts: readonly SmsTextCost[];
  /** Meeting reminders plus SMS steps for the share of nurtured leads with SMS consent (see the assumptions). */
  readonly usdPer1000Leads: number;
  readonly assumptions: SmsPricing['assumptions'];
  readonly pricingStatus: string;
}

/** The SMS model for `config` (no SMS configured: zero cost, no texts). */
export function smsBench(
  config: ClientConfig,
  pricingFile = new URL('./sms-pricing.json', import.meta.url),
): SmsBench {
  const pricing = JSON.parse(readFileSync(pricingFile, 'utf8')) as SmsPricing;
  const country =
    config.client.defaultCountry in pricing.perPartUsd
      ? config.client.defaultCountry
      : pricing.defaultCountry;
  const usdPerPart = pricing.perPartUsd[country] ?? 0;
  const { sampleFirstName, sampleMeetingTime } = pricing.assumptions;
  const cost = (source: string, template: string): SmsTextCost => {
    const body = renderSms(template, { firstName: sampleFirstName, meetingTime: sampleMeetingTime });
    const parts = smsParts(body);
    return {
      text: source,
      encoding: parts.encoding,
      characters: [...body].length,
      parts: parts.parts,
      usdPerSend: parts.parts * usdPerPart,
    };
  };
  const texts: SmsTextCost[] = [];
  if (config.sms.enabled) {
    texts.push(cost('meeting reminder', config.sms.meetingReminder.text));
    for (const sequence of config.nurture.sequences)
      for (const step of sequence.steps)
        if (step.channel === 'sms' && step.sms) texts.push(cost(`${sequence.id}/${step.id}`, step.sms.text));
  }
  const reminder = texts[0]?.usdPerSend ?? 0;
  const steps = texts.slice(1).reduce((sum, t) => sum + t.usdPerSend, 0);
  const a = pricing.assumptions;
  const usdPer1000Leads =
    a.bookedMeetingsPer1000Leads * reminder + 1000 * a.smsConsentShareOfNurtured * steps;
  return {
    country,
    usdPerPart,
    texts,
    usdPer1000Leads: Math.round(usdPer1000Leads * 1000) / 1000,
    assumptions: a,
    pricingStatus: pricing.status,
  };
}

/** Adds the SMS model to the bench result (`sms`) and prints its table: `bench/main.ts`'s one hook. */
export function attachSmsBench(result: object, config: ClientConfig, print: (text: string) => void): void {
  const sms = smsBench(config);
  Object.assign(result, { sms });
  if (sms.texts.length === 0) return;
  print(
    [
      `\n### SMS (${sms.country}, USD ${sms.usdPerPart} per part; an upper bound: every lead is nurtured and reaches every SMS step)`,
      '',
      '| Text | Encoding | Characters | Parts | USD per send |',
      '| --- | --- | --- | --- | --- |',
      ...sms.texts.map(
        (t) => `| ${t.text} | ${t.encoding} | ${t.characters} | ${t.parts} | ${t.usdPerSend.toFixed(4)} |`,
      ),
      '',
      `USD ${sms.usdPer1000Leads} per 1,000 leads (${sms.assumptions.bookedMeetingsPer1000Leads} booked meetings, ${sms.assumptions.smsConsentShareOfNurtured * 100}% SMS consent). ${sms.pricingStatus}`,
    ].join('\n'),
  );
}

/**
 * The nurture machine's path for a lead that takes no branch: at `Sequence` the enrolled
 * sequence, at each `After` choice the step's default target (or the end), `Stopped` when the
 * lead has no consent (the first send stops it).
 */
export function nurturePath(
  definition: AslDefinition,
  sequence: NurtureSequence | undefined,
  full: boolean,
): (state: string) => string {
  return (state) => {
    if (state === NURTURE_STATES.sequence)
      return sequence ? NURTURE_STATES.wait(sequence.id, 1) : NURTURE_STATES.unknown;
    if (!full) return NURTURE_STATES.stopped;
    const choice = definition.States[state] as
      | { Choices?: Array<{ Variable?: string; StringEquals?: string; Next: string }>; Default?: string }
      | undefined;
    const index = sequence
      ? sequence.steps.findIndex((_, k) => state === NURTURE_STATES.after(sequence.id, k + 1))
      : -1;
    if (sequence && index >= 0) {
      const goto = targetKey(defaultTarget(sequence, index));
      const next = choice?.Choices?.find(
        (c) => c.Variable === '$.result.goto' && c.StringEquals === goto,
      )?.Next;
      if (next) return next;
    }
    return String(choice?.Default ?? '');
  };
}
