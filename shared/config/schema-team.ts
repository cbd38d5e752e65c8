import { z } from 'zod';
import { countryCode, email, hhmm, id, TimeZoneSchema } from './schema-primitives';
/** The sales team in the client file: reps with their hours and capacity, teams, territories. */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const WeekdaySchema = z.enum(WEEKDAYS);

export const WorkingHoursSchema = z
  .strictObject({
    /** Working days. @default mon-fri */
    days: z.array(WeekdaySchema).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
    /** Start of the working day, local time. @default "09:00" */
    start: hhmm.default('09:00'),
    /** End of the working day, local time (exclusive). @default "17:30" */
    end: hhmm.default('17:30'),
  })
  .refine((w) => w.start < w.end, { message: 'start must be before end', path: ['end'] });

export const SenioritySchema = z.enum(['junior', 'mid', 'senior']);

export const RepSchema = z.strictObject({
  id,
  name: z.string().min(1).max(100),
  email,
  /** Slack member id, so alerts can @-mention the rep (e.g. "U024BE7LH"). */
  slackUserId: z
    .string()
    .regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack member id such as "U024BE7LH"')
    .optional(),
  team: id,
  /** `manager` reps receive escalations; they can also take leads when `capacity` > 0. @default "rep" */
  role: z.enum(['rep', 'manager']).default('rep'),
  timezone: TimeZoneSchema,
  workingHours: WorkingHoursSchema.default({
    days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    start: '09:00',
    end: '17:30',
  }),
  /** Most open (unworked or in-progress) leads the rep may hold at once. */
  capacity: z.number().int().min(0).max(10_000),
  seniority: SenioritySchema,
  /** Share of round-robin assignments relative to team mates. @default 1 */
  weight: z.number().int().min(1).max(100).default(1),
  /** Out of office: `true` for indefinitely, or a date range (inclusive, ISO dates in the rep's zone). @default false */
  outOfOffice: z
    .union([
      z.boolean(),
      z
        .strictObject({ from: z.iso.date(), until: z.iso.date() })
        .refine((o) => o.from <= o.until, { message: 'from must not be after until', path: ['until'] }),
    ])
    .default(false),
  /**
   * The rep's scheduling page (Calendly, Cal.com or any other https page). Sales-ready form
   * leads assigned to the rep are offered it on the thank-you page; Calendly and Cal.com links
   * get the visitor's name and email filled in. @default - no instant booking offer
   */
  bookingUrl: z
    .url({
      protocol: /^https$/,
      message: 'an https URL of the rep\'s scheduling page, such as "https://calendly.com/ana/30min"',
    })
    .optional(),
});

export const TeamSchema = z.strictObject({
  id,
  name: z.string().min(1).max(100),
  /** Team that takes leads when nobody here is eligible. */
  backupTeam: id.optional(),
  /** Rep (usually role `manager`) who receives escalations for this team. */
  manager: id,
});

export const TerritorySchema = z.strictObject({
  id,
  name: z.string().min(1).max(100),
  /** ISO country codes covered; `*` makes this the catch-all territory. */
  countries: z.union([z.array(countryCode).min(1), z.literal('*')]),
  team: id,
});
