import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Weekday, WorkingHours } from '../../shared/config/schema';
import { WEEKDAYS } from '../../shared/config/schema-team';
import {
  addWorkingMinutes,
  isOutOfOffice,
  isWithinWorkingHours,
  nextWorkingStart,
  WorkingHoursError,
  zonedTime,
} from '../../shared/domain/working-hours';

const WEEKDAYS_ONLY: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];
const EVERY_DAY: Weekday[] = [...WEEKDAYS];
const office = (start: string, end: string, days: Weekday[] = WEEKDAYS_ONLY): WorkingHours => ({
  days,
  start,
  end,
});
const at = (iso: string) => new Date(iso);
const iso = (d: Date) => d.toISOString();

describe('zonedTime', () => {
  it('reads date, weekday, minute of day and offset in the given zone', () => {
    expect(zonedTime('Europe/Berlin', at('2025-03-12T09:30:00Z'))).toEqual({
      date: '2025-03-12',
      weekday: 'wed',
      minuteOfDay: 10 * 60 + 30,
      offsetMs: 3_600_000,
    });
    // Half-hour zone, and a date that is still "yesterday" in Los Angeles.
    expect(zonedTime('Asia/Kolkata', at('2025-03-12T00:00:00Z')).minuteOfDay).toBe(5 * 60 + 30);
    expect(zonedTime('America/Los_Angeles', at('2025-03-12T03:00:00Z'))).toMatchObject({
      date: '2025-03-11',
      weekday: 'tue',
      minuteOfDay: 20 * 60,
      offsetMs: -7 * 3_600_000,
    });
  });

  it('reads midnight as minute 0, not 24:00', () => {
    expect(zonedTime('UTC', at('2025-03-12T00:00:00Z')).minuteOfDay).toBe(0);
  });

  it('rejects an unknown time zone with an actionable error', () => {
    expect(() => zonedTime('Mars/Olympus', at('2025-03-12T00:00:00Z'))).toThrow(WorkingHoursError);
    expect(() => zonedTime('Mars/Olympus', at('2025-03-12T00:00:00Z'))).toThrow(/IANA name/);
  });
});

describe('isWithinWorkingHours', () => {
  const berlin = office('08:30', '17:30');

  it('treats start as inclusive and end as exclusive, in the rep zone', () => {
    // Wednesday 12 March 2025, Berlin is UTC+1.
    expect(isWithinWorkingHours(berlin, 'Europe/Berlin', at('2025-03-12T07:29:59Z'))).toBe(false);
    expect(isWithinWorkingHours(berlin, 'Europe/Berlin', at('2025-03-12T07:30:00Z'))).toBe(true);
    expect(isWithinWorkingHours(berlin, 'Europe/Berlin', at('2025-03-12T16:29:59Z'))).toBe(true);
    expect(isWithinWorkingHours(berlin, 'Europe/Berlin', at('2025-03-12T16:30:00Z'))).toBe(false);
  });

  it('is false on days off', () => {
    // Saturday 15 March 2025, noon in Berlin.
    expect(isWithinWorkingHours(berlin, 'Europe/Berlin', at('2025-03-15T11:00:00Z'))).toBe(false);
    expect(
      isWithinWorkingHours(office('08:30', '17:30', ['sat']), 'Europe/Berlin', at('2025-03-15T11:00:00Z')),
    ).toBe(true);
  });

  it('handles an early shift 06:00-14:30 in New York after the US clock change', () => {
    const early = office('06:00', '14:30');
    // Tuesday 11 March 2025, New York is UTC-4 (EDT since 9 March).
    expect(isWithinWorkingHours(early, 'America/New_York', at('2025-03-11T09:59:00Z'))).toBe(false);
    expect(isWithinWorkingHours(early, 'America/New_York', at('2025-03-11T10:00:00Z'))).toBe(true);
    expect(isWithinWorkingHours(early, 'America/New_York', at('2025-03-11T18:29:00Z'))).toBe(true);
    expect(isWithinWorkingHours(early, 'America/New_York', at('2025-03-11T18:30:00Z'))).toBe(false);
  });

  it('uses the weekday of the rep zone, not of UTC', () => {
    // 23:30 UTC on Friday is already Saturday 08:30 in Tokyo.
    expect(isWithinWorkingHours(office('08:00', '17:00'), 'Asia/Tokyo', at('2025-03-14T23:30:00Z'))).toBe(
      false,
    );
    // 23:30 UTC on Sunday is Monday 08:30 in Tokyo.
    expect(isWithinWorkingHours(office('08:00', '17:00'), 'Asia/Tokyo', at('2025-03-16T23:30:00Z'))).toBe(
      true,
    );
  });

  it('rejects unusable hours with typed errors', () => {
    const now = at('2025-03-12T10:00:00Z');
    expect(() => isWithinWorkingHours({ days: [], start: '09:00', end: '17:00' }, 'UTC', now)).toThrow(
      WorkingHoursError,
    );
    expect(() => isWithinWorkingHours(office('17:00', '09:00'), 'UTC', now)).toThrow(/must be before end/);
    expect(() => isWithinWorkingHours(office('9am', '17:00'), 'UTC', now)).toThrow(/24-hour time/);
  });
});

describe('nextWorkingStart', () => {
  it('returns the same instant when already inside the window', () => {
    const now = at('2025-03-12T10:15:42.123Z');
    expect(nextWorkingStart(office('08:30', '17:30'), 'Europe/Berlin', now).getTime()).toBe(now.getTime());
  });

  it('opens later the same day before the start', () => {
    expect(iso(nextWorkingStart(office('08:30', '17:30'), 'Europe/Berlin', at('2025-03-12T05:00:00Z')))).toBe(
      '2025-03-12T07:30:00.000Z',
    );
  });

  it('skips the weekend from Friday evening to Monday morning', () => {
    // Friday 14 March 18:00 Berlin → Monday 17 March 08:30 CET.
    expect(iso(nextWorkingStart(office('08:30', '17:30'), 'Europe/Berlin', at('2025-03-14T17:00:00Z')))).toBe(
      '2025-03-17T07:30:00.000Z',
    );
  });

  it('crosses the Berlin spring-forward weekend (last Sunday of March) with the new offset', () => {
    // Friday 28 March 18:00 CET → Monday 31 March 08:30 CEST (UTC+2), not 07:30Z.
    expect(iso(nextWorkingStart(office('08:30', '17:30'), 'Europe/Berlin', at('2025-03-28T17:00:00Z')))).toBe(
      '2025-03-31T06:30:00.000Z',
    );
  });

  it('opens a start time skipped by spring forward at the end of the gap', () => {
    // 30 March 2025: Berlin jumps from 02:00 CET to 03:00 CEST, so 02:30 never happens.
    const night = office('02:30', '04:00', EVERY_DAY);
    expect(iso(nextWorkingStart(night, 'Europe/Berlin', at('2025-03-30T00:00:00Z')))).toBe(
      '2025-03-30T01:00:00.000Z',
    );
    expect(zonedTime('Europe/Berlin', at('2025-03-30T01:00:00Z')).minuteOfDay).toBe(3 * 60);
  });

  it('skips a day whose whole window falls in the spring-forward gap', () => {
    const gap = office('02:00', '02:30', EVERY_DAY);
    expect(iso(nextWorkingStart(gap, 'Europe/Berlin', at('2025-03-29T23:00:00Z')))).toBe(
      '2025-03-31T00:00:00.000Z',
    );
  });

  it('enters a window when fall back repeats an hour inside it', () => {
    // 26 October 2025: Berlin goes from 03:00 CEST back to 02:00 CET at 01:00Z. At 02:45 CEST the
    // window 01:00-02:30 is over, but at 01:00Z the clock reads 02:00 again.
    const window = office('01:00', '02:30', EVERY_DAY);
    expect(isWithinWorkingHours(window, 'Europe/Berlin', at('2025-10-26T00:45:00Z'))).toBe(false);
    expect(iso(nextWorkingStart(window, 'Europe/Berlin', at('2025-10-26T00:45:00Z')))).toBe(
      '2025-10-26T01:00:00.000Z',
    );
  });

  it('crosses both Los Angeles clock changes', () => {
    const la = office('08:00', '17:00');
    // Friday 7 March 17:00 PST → Monday 10 March 08:00 PDT (UTC-7).
    expect(iso(nextWorkingStart(la, 'America/Los_Angeles', at('2025-03-08T01:00:00Z')))).toBe(
      '2025-03-10T15:00:00.000Z',
    );
    // Friday 31 October 17:00 PDT → Monday 3 November 08:00 PST (UTC-8).
    expect(iso(nextWorkingStart(la, 'America/Los_Angeles', at('2025-11-01T00:00:00Z')))).toBe(
      '2025-11-03T16:00:00.000Z',
    );
  });

  it('honours a 30-minute DST shift (Lord Howe Island)', () => {
    // 5 October 2025: Lord Howe moves from 02:00 (+10:30) to 02:30 (+11).
    const window = office('02:00', '03:00', EVERY_DAY);
    const next = nextWorkingStart(window, 'Australia/Lord_Howe', at('2025-10-04T15:00:00Z'));
    expect(iso(next)).toBe('2025-10-04T15:30:00.000Z');
    expect(zonedTime('Australia/Lord_Howe', next).minuteOfDay).toBe(2 * 60 + 30);
  });
});

describe('addWorkingMinutes', () => {
  const berlin = office('08:30', '17:30');

  it('adds inside one window', () => {
    expect(iso(addWorkingMinutes(berlin, 'Europe/Berlin', at('2025-03-12T09:00:00Z'), 5))).toBe(
      '2025-03-12T09:05:00.000Z',
    );
  });

  it('ends at the close when the minutes use up the window exactly', () => {
    expect(iso(addWorkingMinutes(berlin, 'Europe/Berlin', at('2025-03-12T16:20:00Z'), 10))).toBe(
      '2025-03-12T16:30:00.000Z',
    );
  });

  it('carries the rest over to the next working day', () => {
    // Wednesday 17:25 + 10 working minutes → Thursday 08:35.
    expect(iso(addWorkingMinutes(berlin, 'Europe/Berlin', at('2025-03-12T16:25:00Z'), 10))).toBe(
      '2025-03-13T07:35:00.000Z',
    );
  });

  it('starts counting at the next opening when it starts outside hours', () => {
    // Saturday → Monday 08:30 + 5.
    expect(iso(addWorkingMinutes(berlin, 'Europe/Berlin', at('2025-03-15T11:00:00Z'), 5))).toBe(
      '2025-03-17T07:35:00.000Z',
    );
  });

  it('crosses the Los Angeles spring-forward weekend', () => {
    // Friday 7 March 16:55 PST + 10 → Monday 10 March 08:05 PDT.
    expect(
      iso(addWorkingMinutes(office('08:00', '17:00'), 'America/Los_Angeles', at('2025-03-08T00:55:00Z'), 10)),
    ).toBe('2025-03-10T15:05:00.000Z');
  });

  it('counts the repeated hour of a night shift spanning fall back (4 local hours = 5 real hours)', () => {
    const night = office('00:00', '04:00', EVERY_DAY);
    const start = at('2025-10-25T22:00:00Z'); // Sunday 26 October 00:00 CEST
    expect(iso(addWorkingMinutes(night, 'Europe/Berlin', start, 240))).toBe('2025-10-26T02:00:00.000Z');
    expect(iso(addWorkingMinutes(night, 'Europe/Berlin', start, 300))).toBe('2025-10-26T03:00:00.000Z');
    // One more minute spills into Monday 00:00 CET.
    expect(iso(addWorkingMinutes(night, 'Europe/Berlin', start, 301))).toBe('2025-10-26T23:01:00.000Z');
  });

  it('loses the skipped hour of a night shift spanning spring forward (4 local hours = 3 real hours)', () => {
    const night = office('00:00', '04:00', EVERY_DAY);
    const start = at('2025-03-29T23:00:00Z'); // Sunday 30 March 00:00 CET
    expect(iso(addWorkingMinutes(night, 'Europe/Berlin', start, 180))).toBe('2025-03-30T02:00:00.000Z');
    expect(iso(addWorkingMinutes(night, 'Europe/Berlin', start, 181))).toBe('2025-03-30T22:01:00.000Z');
  });

  it('returns the start unchanged for zero minutes and rejects negative ones', () => {
    const saturday = at('2025-03-15T11:00:00Z');
    expect(addWorkingMinutes(berlin, 'Europe/Berlin', saturday, 0).getTime()).toBe(saturday.getTime());
    expect(() => addWorkingMinutes(berlin, 'Europe/Berlin', saturday, -1)).toThrow(WorkingHoursError);
    expect(() => addWorkingMinutes(berlin, 'Europe/Berlin', saturday, Number.NaN)).toThrow(WorkingHoursError);
  });
});

describe('isOutOfOffice', () => {
  it('reads a boolean flag as is', () => {
    const now = at('2025-03-12T10:00:00Z');
    expect(isOutOfOffice({ outOfOffice: true, timezone: 'UTC' }, now)).toBe(true);
    expect(isOutOfOffice({ outOfOffice: false, timezone: 'UTC' }, now)).toBe(false);
  });

  it('treats a date range as inclusive calendar dates in the rep zone', () => {
    const rep = { outOfOffice: { from: '2025-03-10', until: '2025-03-14' }, timezone: 'America/Los_Angeles' };
    expect(isOutOfOffice(rep, at('2025-03-10T06:59:00Z'))).toBe(false); // 9 March 23:59 PDT
    expect(isOutOfOffice(rep, at('2025-03-10T07:00:00Z'))).toBe(true); // 10 March 00:00 PDT
    expect(isOutOfOffice(rep, at('2025-03-15T06:59:00Z'))).toBe(true); // 14 March 23:59 PDT
    expect(isOutOfOffice(rep, at('2025-03-15T07:00:00Z'))).toBe(false); // 15 March 00:00 PDT
  });
});

// ---------------------------------------------------------------------------------------------
// Properties, checked against an independent minute-by-minute reading of the wall clock.

const ZONES = [
  'Europe/Berlin',
  'America/Los_Angeles',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Pacific/Chatham',
  'America/Santiago',
  'UTC',
] as const;

const oracleFormatters = new Map<string, Intl.DateTimeFormat>();
/** Independent wall-clock reading: weekday and minute of day straight from ICU. */
function oracleInWindow(hours: WorkingHours, tz: string, ms: number): boolean {
  let f = oracleFormatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: tz,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    oracleFormatters.set(tz, f);
  }
  const parts = f.formatToParts(ms);
  const weekday = parts
    .find((p) => p.type === 'weekday')
    ?.value.toLowerCase()
    .slice(0, 3) as Weekday;
  const hhmm = `${parts.find((p) => p.type === 'hour')?.value}:${parts.find((p) => p.type === 'minute')?.value}`;
  return hours.days.includes(weekday) && hhmm >= hours.start && hhmm < hours.end;
}

const MINUTE = 60_000;
const hhmm = (m: number) =>
  `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

const toMinutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3));
const weeklyMinutes = (h: WorkingHours) => h.days.length * (toMinutes(h.end) - toMinutes(h.start));

/** Working hours biased towards the small hours, where clocks change. */
const hoursArb: fc.Arbitrary<WorkingHours> = fc
  .record({
    days: fc.subarray([...WEEKDAYS], { minLength: 1 }),
    a: fc.oneof(fc.integer({ min: 0, max: 1439 }), fc.integer({ min: 0, max: 240 })),
    b: fc.oneof(fc.integer({ min: 0, max: 1439 }), fc.integer({ min: 0, max: 240 })),
  })
  .filter(({ a, b }) => a !== b)
  .map(({ days, a, b }) => ({ days, start: hhmm(Math.min(a, b)), end: hhmm(Math.max(a, b)) }));

/** Whole-minute instants in 2025, half of them within four days of a DST change somewhere. */
const TRANSITIONS = [
  '2025-03-09T10:00:00Z', // US spring forward
  '2025-03-30T01:00:00Z', // EU spring forward
  '2025-04-05T13:00:00Z', // Chatham / Lord Howe / Santiago autumn
  '2025-10-04T15:00:00Z', // Lord Howe spring
  '2025-10-26T01:00:00Z', // EU fall back
  '2025-11-02T09:00:00Z', // US fall back
].map((s) => Date.parse(s));
const instantArb: fc.Arbitrary<number> = fc.oneof(
  fc
    .record({
      base: fc.constantFrom(...TRANSITIONS),
      delta: fc.integer({ min: -4 * 1440, max: 4 * 1440 }),
    })
    .map(({ base, delta }) => base + delta * MINUTE),
  fc
    .integer({
      min: Date.parse('2025-01-01T00:00:00Z') / MINUTE,
      max: Date.parse('2025-12-31T00:00:00Z') / MINUTE,
    })
    .map((m) => m * MINUTE),
);

describe('working-hours properties', () => {
  it('nextWorkingStart is the first minute inside the window (checked minute by minute, across DST)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), hoursArb, instantArb, (tz, hours, from) => {
        const next = nextWorkingStart(hours, tz, new Date(from)).getTime();
        expect(next).toBeGreaterThanOrEqual(from);
        expect(oracleInWindow(hours, tz, next)).toBe(true);
        for (let t = from; t < next; t += MINUTE) expect(oracleInWindow(hours, tz, t)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('addWorkingMinutes ends after exactly that many working minutes (checked minute by minute)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        // Up to about one week of working time, so the minute-by-minute check stays quick.
        hoursArb.chain((hours) =>
          fc.tuple(fc.constant(hours), fc.integer({ min: 1, max: Math.min(900, weeklyMinutes(hours)) })),
        ),
        instantArb,
        (tz, [hours, minutes], from) => {
          const end = addWorkingMinutes(hours, tz, new Date(from), minutes).getTime();
          let worked = 0;
          for (let t = from; t < end; t += MINUTE) if (oracleInWindow(hours, tz, t)) worked += 1;
          expect(worked).toBe(minutes);
          // And not a minute later than needed: the last minute counted was a working one.
          expect(oracleInWindow(hours, tz, end - MINUTE)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('splitting a duration does not change the deadline', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        hoursArb,
        instantArb,
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 2000 }),
        (tz, hours, from, a, b) => {
          const whole = addWorkingMinutes(hours, tz, new Date(from), a + b);
          const split = addWorkingMinutes(hours, tz, addWorkingMinutes(hours, tz, new Date(from), a), b);
          expect(split.getTime()).toBe(whole.getTime());
        },
      ),
      { numRuns: 100 },
    );
  });
});
