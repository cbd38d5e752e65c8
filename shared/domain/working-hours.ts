import type { Rep, Weekday, WorkingHours } from '../config/schema';

/**
 * A rep's working-hours calendar: is the rep on shift now, when does the next shift start, and
 * when will N minutes of working time have passed (the SLA clock).
 *
 * Everything is computed in the rep's own IANA zone with the runtime's ICU data
 * (`Intl.DateTimeFormat`), so there is no date library and no hand-kept DST table. A working
 * window is `[start, end)` in local wall-clock time on each working day. Around DST changes
 * the rules are the ones a person would expect:
 *
 * - a start time that does not exist (spring forward skips it) opens the window at the first
 *   instant after the gap, e.g. 02:30 on the last Sunday of March in Berlin opens at 03:00 CEST;
 * - a local time that happens twice (fall back) is inside the window both times, so a shift that
 *   spans the change is an hour longer in real time, and one that spans spring forward an hour
 *   shorter.
 *
 * The search never steps minute by minute: inside a stretch of constant UTC offset local time is
 * plain arithmetic, and the instant an offset changes is found by bisection.
 */

/** A working-hours input that cannot be used: unknown time zone, no working day, bad time. */
export class WorkingHoursError extends Error {
  override readonly name = 'WorkingHoursError';
}

/** Wall-clock reading of an instant in one time zone. */
export interface ZonedTime {
  /** Local calendar date, `YYYY-MM-DD`. */
  readonly date: string;
  readonly weekday: Weekday;
  /** Minutes since local midnight, 0..1439. */
  readonly minuteOfDay: number;
  /** Local time minus UTC at that instant, in milliseconds (e.g. +7_200_000 for CEST). */
  readonly offsetMs: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** `Date#getUTCDay()` order, Sunday first. */
const UTC_DAY_TO_WEEKDAY: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: timezone,
        // h23: some ICU versions print midnight as "24" with hour12:false.
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new WorkingHoursError(
        `unknown time zone "${timezone}": use an IANA name such as "Europe/Berlin" or "America/New_York"`,
      );
    }
    formatters.set(timezone, f);
  }
  return f;
}

function assertValidDate(at: Date | number, what: string): number {
  const ms = typeof at === 'number' ? at : at.getTime();
  if (!Number.isFinite(ms)) throw new WorkingHoursError(`${what} is not a valid date`);
  return ms;
}

/** Local wall clock of `ms` as if it were a UTC instant ("wall ms"), plus the offset. */
function wallClock(timezone: string, ms: number): { wallMs: number; offsetMs: number } {
  const parts = formatterFor(timezone).formatToParts(ms);
  const get = (type: Intl.DateTimeFormatPartTypes): number => {
    const part = parts.find((p) => p.type === type);
    return part ? Number(part.value) : 0;
  };
  const wallSeconds = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  // ICU resolves to whole seconds, so the offset is measured against the instant's whole second.
  const offsetMs = wallSeconds - Math.floor(ms / 1000) * 1000;
  return { wallMs: ms + offsetMs, offsetMs };
}

function offsetAt(timezone: string, ms: number): number {
  return wallClock(timezone, ms).offsetMs;
}

function zoned(timezone: string, ms: number): ZonedTime {
  const { wallMs, offsetMs } = wallClock(timezone, ms);
  const wall = new Date(wallMs);
  return {
    date: wall.toISOString().slice(0, 10),
    weekday: UTC_DAY_TO_WEEKDAY[wall.getUTCDay()] ?? 'sun',
    minuteOfDay: wall.getUTCHours() * 60 + wall.getUTCMinutes(),
    offsetMs,
  };
}

/** Reads the local date, weekday and time of `at` in `timezone`. */
export function zonedTime(timezone: string, at: Date): ZonedTime {
  return zoned(timezone, assertValidDate(at, 'the instant'));
}

interface Window {
  readonly days: ReadonlySet<Weekday>;
  /** Minutes since local midnight. */
  readonly start: number;
  readonly end: number;
}

function minutesOf(hhmm: string, field: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  const hours = Number(m?.[1]);
  const minutes = Number(m?.[2]);
  if (!m || hours > 23 || minutes > 59)
    throw new WorkingHoursError(`working hours ${field} "${hhmm}" is not a 24-hour time such as "09:00"`);
  return hours * 60 + minutes;
}

function windowOf(hours: WorkingHours): Window {
  if (hours.days.length === 0) throw new WorkingHoursError('working hours need at least one working day');
  const start = minutesOf(hours.start, 'start');
  const end = minutesOf(hours.end, 'end');
  if (start >= end)
    throw new WorkingHoursError(`working hours start ${hours.start} must be before end ${hours.end}`);
  return { days: new Set(hours.days), start, end };
}

function inWindow(w: Window, local: ZonedTime): boolean {
  return w.days.has(local.weekday) && local.minuteOfDay >= w.start && local.minuteOfDay < w.end;
}

/**
 * The first wall-clock window opening strictly after `wallMs`, read on a fixed offset. Days are
 * non-empty, so one of the next eight days has an opening.
 */
function nextWallOpening(w: Window, wallMs: number): number {
  const dayStart = Math.floor(wallMs / DAY) * DAY;
  for (let k = 0; k <= 7; k++) {
    const day = dayStart + k * DAY;
    const opening = day + w.start * MINUTE;
    const weekday = UTC_DAY_TO_WEEKDAY[new Date(day).getUTCDay()] ?? 'sun';
    if (opening > wallMs && w.days.has(weekday)) return opening;
  }
  /* c8 ignore next */
  throw new WorkingHoursError('working hours have no working day');
}

/**
 * First instant in `(lo, hi]` whose UTC offset differs from `offset`, given that `lo` has it and
 * `hi` does not. Zones change offset at most twice a year, so at most one change lies in a
 * window of a few days and bisection finds it to the millisecond.
 */
function offsetChangeBetween(timezone: string, lo: number, hi: number, offset: number): number {
  let a = lo;
  let b = hi;
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (offsetAt(timezone, mid) === offset) a = mid;
    else b = mid;
  }
  return b;
}

// Bounds on the searches below, far above what any real calendar needs, so a broken time-zone
// database can never hang a Lambda.
const MAX_SEARCH_STEPS = 64;
const MAX_WINDOWS = 1_000_000;

function nextStart(w: Window, timezone: string, fromMs: number): number {
  let t = fromMs;
  for (let step = 0; step < MAX_SEARCH_STEPS; step++) {
    const local = zoned(timezone, t);
    if (inWindow(w, local)) return t;
    const offset = local.offsetMs;
    const candidate = nextWallOpening(w, t + offset) - offset;
    // Same offset at the candidate: no DST change in between, so the wall-clock arithmetic holds
    // and the next round confirms it. Otherwise resume at the change itself: the jump may land
    // inside the window (spring forward over the start, fall back into the window).
    t =
      offsetAt(timezone, candidate) === offset
        ? candidate
        : offsetChangeBetween(timezone, t, candidate, offset);
  }
  throw new WorkingHoursError(`could not find the next working hour in "${timezone}"`);
}

/**
 * True when `at` falls inside the working window (`start` inclusive, `end` exclusive) on a
 * working day, read in `timezone`.
 */
export function isWithinWorkingHours(hours: WorkingHours, timezone: string, at: Date): boolean {
  return inWindow(windowOf(hours), zonedTime(timezone, at));
}

/**
 * The next instant the working window opens: `from` itself when it is already inside, otherwise
 * the first instant after `from` that is inside (see the module notes for DST gaps and overlaps).
 */
export function nextWorkingStart(hours: WorkingHours, timezone: string, from: Date): Date {
  return new Date(nextStart(windowOf(hours), timezone, assertValidDate(from, '"from"')));
}

/**
 * The instant when `minutes` of working time have elapsed, counting from `from` and only inside
 * the working window. A deadline that uses up a window exactly ends at that window's close
 * (e.g. 17:30), not at the next opening. `0` minutes returns `from` unchanged.
 *
 * Used by the SLA ladder when the client counts only the owner's working hours.
 */
export function addWorkingMinutes(hours: WorkingHours, timezone: string, from: Date, minutes: number): Date {
  if (!Number.isFinite(minutes) || minutes < 0)
    throw new WorkingHoursError(`minutes must be a finite number of 0 or more (got ${minutes})`);
  const w = windowOf(hours);
  let t = assertValidDate(from, '"from"');
  let remaining = minutes * MINUTE;
  if (remaining === 0) return new Date(t);
  for (let i = 0; i < MAX_WINDOWS; i++) {
    t = nextStart(w, timezone, t);
    const { wallMs, offsetMs } = wallClock(timezone, t);
    let stretchEnd = Math.floor(wallMs / DAY) * DAY + w.end * MINUTE - offsetMs;
    // A DST change before the close ends this stretch of constant offset early; the next round
    // continues on the new offset (fall back) or finds the window already closed (spring forward).
    if (offsetAt(timezone, stretchEnd) !== offsetMs)
      stretchEnd = offsetChangeBetween(timezone, t, stretchEnd, offsetMs);
    const available = stretchEnd - t;
    if (remaining <= available) return new Date(t + remaining);
    remaining -= available;
    t = stretchEnd;
  }
  throw new WorkingHoursError(`${minutes} working minutes do not fit in the calendar of "${timezone}"`);
}

/**
 * True when the rep is out of office at `at`: `outOfOffice: true`, or `at` falls on a date in the
 * inclusive `{ from, until }` range, both read as calendar dates in the rep's own zone.
 */
export function isOutOfOffice(rep: Pick<Rep, 'outOfOffice' | 'timezone'>, at: Date): boolean {
  const ooo = rep.outOfOffice;
  if (typeof ooo === 'boolean') return ooo;
  const today = zonedTime(rep.timezone, at).date;
  return ooo.from <= today && today <= ooo.until;
}
