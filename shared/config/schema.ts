import { z } from 'zod';
import { ConditionSchema } from '../domain/conditions';
import { fieldPathSegments } from '../domain/field-path';
import { nurtureGraphProblems } from '../domain/nurture-graph';

/**
 * The client configuration: everything a client (or the agency running it) changes lives in
 * `clients/<name>.yaml` and is validated by {@link ClientConfigSchema} at synth time. The
 * validated object is baked into every function bundle, so the pipeline and its infrastructure
 * always agree on one reviewed file.
 */

const slug = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,30}[a-z0-9]$/, 'lower-case letters, digits and dashes, 3-32 characters');
const id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, "_" and "-"');

/** Validates an IANA time zone name with the runtime's own ICU data. */
export const TimeZoneSchema = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'an IANA time zone such as "Europe/Berlin" or "America/New_York"' },
);

const countryCode = z
  .string()
  .regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code in capitals, such as "DE"');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a 24-hour time such as "09:00"');
const url = z.url({ protocol: /^https?$/, message: 'an http(s) URL' });
const httpsOrigin = z
  .string()
  .regex(/^https?:\/\/[^/\s]+$/, 'an origin such as "https://www.example.com" (no path, no trailing slash)');
const email = z.email();

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

/**
 * A stage the lead reaches whenever the rule fires, whatever its points: most teams treat a
 * booked meeting as sales-ready, however low the score. Stages set by people (opportunity,
 * customer) are not for rules to set.
 */
const minStageField = z.enum(['MQL', 'SQL'], { error: 'a stage a score can set: "MQL" or "SQL"' }).optional();

export const FitRuleSchema = z.strictObject({
  id,
  /** Shown in score explanations, e.g. "Target industry". */
  label: z.string().min(1).max(120),
  /** Every condition must hold. */
  when: z.array(ConditionSchema).min(1),
  /** Points added when the rule fires; negative for penalties. */
  points: z.number().int().min(-1000).max(1000),
  minStage: minStageField,
});

export const ACTIVITY_TYPES = [
  'captured',
  'resubmitted',
  // A resubmission's values that contradict the lead's; the owner may accept them (leads API).
  'details_submitted',
  'details_accepted',
  'page_view',
  'pricing_page_view',
  'content_download',
  'demo_request',
  'webinar_registered',
  'webinar_attended',
  'meeting_booked',
  'email_delivered',
  'email_opened',
  'email_clicked',
  'email_bounced',
  'email_complained',
  'email_replied',
  'unsubscribed',
  'contacted',
  'note',
  // Written by the route function, so a lead's timeline shows where it went and why.
  'assigned',
  'held',
  'nurture_enrolled',
  // Written by the leads API when a rep moves a lead to another pipeline stage.
  'stage_changed',
  // Written by the SLA function: an escalation step (notify or reassign) and the ladder running out.
  'sla_escalated',
  'sla_unworked',
] as const;
export const ActivityTypeSchema = z.enum(ACTIVITY_TYPES);

/** Longest consent wording (`client.consentText`) kept with an opt-in. */
export const CONSENT_TEXT_MAX = 2000;
export type ActivityType = z.output<typeof ActivityTypeSchema>;

export const EngagementRuleSchema = z
  .strictObject({
    id,
    label: z.string().min(1).max(120),
    activity: ActivityTypeSchema,
    /** Optional conditions on the activity's own data (e.g. `path` contains "/pricing"). */
    when: z.array(ConditionSchema).default([]),
    /** Points per occurrence; negative allowed (e.g. unsubscribed). */
    points: z.number().int().min(-1000).max(1000),
    /** Score each occurrence (`true`) or only the first (`false`). @default true */
    repeatable: z.boolean().default(true),
    /** Upper bound (absolute value) on this rule's total contribution, before decay. */
    cap: z.number().int().positive().optional(),
    /** Exempt from decay (e.g. a demo request keeps its weight). @default false */
    noDecay: z.boolean().default(false),
    /** Stage the lead reaches as soon as one matching activity is on its timeline (e.g. a booked meeting → SQL). */
    minStage: minStageField,
  })
  .refine((r) => r.repeatable || r.cap === undefined, {
    message: 'cap only applies to repeatable rules',
    path: ['cap'],
  });

export const ScoringSchema = z
  .strictObject({
    fit: z.array(FitRuleSchema).default([]),
    engagement: z.array(EngagementRuleSchema).default([]),
    /** Engagement points lose half their value every N days. `0` turns decay off. @default 30 */
    decayHalfLifeDays: z.number().min(0).max(3650).default(30),
    thresholds: z
      .strictObject({ mql: z.number().int(), sql: z.number().int() })
      .refine((t) => t.mql < t.sql, { message: 'mql must be below sql', path: ['sql'] }),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    for (const [i, r] of [...s.fit, ...s.engagement].entries()) {
      if (seen.has(r.id))
        ctx.addIssue({ code: 'custom', message: `duplicate rule id "${r.id}"`, path: ['rules', i] });
      seen.add(r.id);
    }
  });

export const PrioritySchema = z.enum(['low', 'normal', 'high']);

export const RoutingRuleSchema = z
  .strictObject({
    id,
    label: z.string().min(1).max(120),
    /** Conditions on lead facts, `score`, `stage`, `priority`; every one must hold. Empty matches all. */
    when: z.array(ConditionSchema).default([]),
    /**
     * Where matching leads go: a team id, `territory` (the team of the lead's country), or a
     * nurture sequence (no owner).
     */
    target: z.union([
      z.strictObject({ team: id }),
      z.strictObject({ territory: z.literal(true) }),
      z.strictObject({ nurture: id }),
    ]),
    /** Outside every eligible rep's hours: `hold` until the next working hour, or `route` anyway. @default "route" */
    outsideHours: z.enum(['hold', 'route']).default('route'),
    /** Prefer senior reps (then mid) for leads of this priority or higher. */
    preferSeniorFor: PrioritySchema.optional(),
    /** Priority given to matching leads, used by alerts and SNS filter policies. @default "normal" */
    priority: PrioritySchema.default('normal'),
  })
  .refine((r) => !('nurture' in r.target) || r.preferSeniorFor === undefined, {
    message: 'preferSeniorFor has no meaning for a nurture target',
    path: ['preferSeniorFor'],
  });

export const RoutingSchema = z.strictObject({
  /** Evaluated in order; the first match wins. */
  rules: z.array(RoutingRuleSchema).min(1),
  /** Last resort when the team and its backup have nobody eligible. */
  defaultOwner: id,
});

export const EscalationStepSchema = z.strictObject({
  /**
   * Who is alerted (and given the lead when `reassign`): `team` another eligible rep of the same
   * team, `teamBackup` a rep of the team's backup team (falling back to `team`), `manager` the
   * team's manager.
   */
  to: z.enum(['team', 'teamBackup', 'manager']),
  /** Minutes allowed at this step before the next one. */
  afterMinutes: z
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 14),
  /** Reassign the lead to the recipient (the team backup gets a round-robin pick). @default true */
  reassign: z.boolean().default(true),
});

export const SlaSchema = z.strictObject({
  /** Minutes from assignment to first touch. */
  firstTouchMinutes: z
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 7),
  /** Count only the owner's working hours when timing the SLA. @default true */
  respectWorkingHours: z.boolean().default(true),
  /** Escalation after the first SLA is missed, in order; the end of the ladder marks the lead unworked. */
  ladder: z.array(EscalationStepSchema).min(1).max(10),
});

export const EmailTemplateSchema = z.strictObject({
  subject: z.string().min(1).max(200),
  /** Handlebars-style `{{firstName}}` placeholders (SES templates); the unsubscribe link is appended. */
  html: z.string().min(1).max(100_000),
  text: z.string().min(1).max(100_000),
});

/**
 * What a lead did since the previous step of its sequence, read when a step's wait ends
 * (`shared/domain/nurture-branching.ts`). Exactly one kind per condition.
 */
export const NurtureBehaviourSchema = z.union([
  /** Opened an email of this execution since the previous step (machine opens do not count). */
  z.strictObject({ opened: z.literal(true) }),
  /** Clicked the named link (`nurture.links`) in an email since the previous step. */
  z.strictObject({ clicked: id }),
  /**
   * Visited a page whose path matches the pattern (`*` matches anything), at least `times` times
   * since the previous step. @default times 1
   */
  z.strictObject({
    visited: z.string().startsWith('/').max(200),
    times: z.number().int().min(1).max(100).default(1),
  }),
  /** Replied (a reply the rep recorded) since the previous step. */
  z.strictObject({ replied: z.literal(true) }),
  /** None of the above since the previous step: no open, click, visit or reply. */
  z.strictObject({ nothing: z.literal(true) }),
]);

/** Where a branch goes: another step of the sequence, the start of another sequence, or the end. */
export const NurtureBranchSchema = z
  .strictObject({
    id,
    when: NurtureBehaviourSchema,
    /** A step of the same sequence (by id). */
    goto: id.optional(),
    /** Another sequence, from its first step. */
    sequence: id.optional(),
    /** End the sequence for this lead. */
    end: z.literal(true).optional(),
  })
  .refine((b) => [b.goto, b.sequence, b.end].filter((v) => v !== undefined).length === 1, {
    message: 'exactly one of goto, sequence or end',
  });

export const SmsTemplateSchema = z.strictObject({
  /** Text with `{{firstName}}`-style placeholders; the opt-out line ("Reply STOP to opt out") is appended. */
  text: z.string().min(1).max(1000),
});

export const NurtureStepSchema = z
  .strictObject({
    id,
    /** Wait before this step, from enrolment (first step) or from the previous step. */
    waitHours: z
      .number()
      .min(0)
      .max(24 * 365),
    /** `email` sends `template`; `sms` sends `sms` (with SMS consent only). @default "email" */
    channel: z.enum(['email', 'sms']).default('email'),
    template: EmailTemplateSchema.optional(),
    sms: SmsTemplateSchema.optional(),
    /**
     * Checked in order when the wait ends, on what the lead did since the previous step; the
     * first that matches decides instead of sending this step. @default none
     */
    branches: z.array(NurtureBranchSchema).max(10).default([]),
    /** The step after this one when no branch matched: a step id, or `end`. @default the following step */
    next: id.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.channel === 'email' && !s.template)
      ctx.addIssue({ code: 'custom', path: ['template'], message: 'an email step needs a template' });
    if (s.channel === 'sms' && !s.sms)
      ctx.addIssue({ code: 'custom', path: ['sms'], message: 'an SMS step needs sms.text' });
  });

export const NurtureSequenceSchema = z.strictObject({
  id,
  name: z.string().min(1).max(100),
  steps: z.array(NurtureStepSchema).min(1).max(20),
});

/**
 * A behaviour that starts a short sequence of its own, whatever sequence the lead is in (the
 * lead moves to it; the sequence it was in stops at its next step).
 */
export const NurtureTriggerSchema = z.strictObject({
  id,
  /** Page visits that start it: a path pattern and how many visits (`times`) within `withinDays`. */
  when: z.strictObject({
    visited: z.string().startsWith('/').max(200),
    times: z.number().int().min(1).max(100).default(1),
    withinDays: z.number().int().min(1).max(365).default(7),
  }),
  /** The sequence to start. */
  sequence: id,
});

export const NurtureSchema = z.strictObject({
  /** Sequence for leads below MQL that no routing rule sends elsewhere. */
  defaultSequence: id,
  /** Named links, so a branch can say `clicked: pricing`; a click matches by URL without query or fragment. @default none */
  links: z.record(id, url).default({}),
  /**
   * When nurture messages go out, in the lead's own time zone (`profile.timezone`, else
   * `client.timezone`): a step due outside it waits for the next opening. @default any time
   */
  sendWindow: WorkingHoursSchema.optional(),
  /** Behaviours that start a sequence of their own. @default none */
  triggers: z.array(NurtureTriggerSchema).max(20).default([]),
  sequences: z.array(NurtureSequenceSchema).min(1),
});

/** Longest task title, for tasks people add and the required actions of a stage. */
export const TASK_TITLE_MAX_LENGTH = 200;

/** Work a deal needs once it enters a stage: becomes a task due `dueInHours` after entry. */
export const RequiredActionSchema = z.strictObject({
  title: z.string().trim().min(1, 'must not be empty').max(TASK_TITLE_MAX_LENGTH),
  /** Hours after the deal enters the stage (wall-clock), e.g. 24 for "by tomorrow". */
  dueInHours: z
    .number()
    .positive('must be more than 0')
    .max(24 * 90, 'at most 2160 (90 days)'),
});

/** SMS through AWS End User Messaging SMS. */
export const SmsSchema = z.strictObject({
  /** Off: no SMS step may be used and no reminder is sent. @default false */
  enabled: z.boolean().default(false),
  /**
   * The origination identity SendTextMessage sends from: a phone number, sender id, pool id or
   * their ARN, as configured in End User Messaging SMS. Required when enabled.
   */
  originationIdentity: z.string().min(1).max(256).optional(),
  /** Optional configuration set (delivery events). */
  configurationSet: z.string().min(1).max(256).optional(),
  /** Form field that records SMS consent, separate from email consent ("yes", "true", "on" or "1"). @default "sms_consent" */
  consentField: z.string().min(1).max(64).default('sms_consent'),
  /** No SMS in these local hours of the lead (wraps midnight when start > end). @default 21:00-08:00 */
  quietHours: z
    .strictObject({ start: hhmm, end: hhmm })
    .refine((q) => q.start !== q.end, { message: 'start and end must differ', path: ['end'] })
    .default({ start: '21:00', end: '08:00' }),
  /** The reminder of a booked meeting goes this many hours before it starts (or at once when it is sooner). @default 24 */
  meetingReminderHours: z.number().min(0.25).max(168).default(24),
  /** The reminder text; `{{firstName}}`, `{{meetingTime}}` (the lead's local time). */
  meetingReminder: SmsTemplateSchema.default({
    text: 'Hi {{firstName}}, a reminder of your meeting on {{meetingTime}}.',
  }),
});

export const PipelineStageSchema = z.strictObject({
  id,
  name: z.string().min(1).max(60),
  /** Win probability used for weighted pipeline value, 0..1. */
  probability: z.number().min(0).max(1),
  /** Marks the closing stages. */
  outcome: z.enum(['open', 'won', 'lost']).default('open'),
  /** Tasks created for the deal's owner when it enters this stage. @default none */
  requiredActions: z
    .array(RequiredActionSchema)
    .max(10, 'at most 10 actions per stage')
    .default([])
    .superRefine((actions, ctx) => {
      const seen = new Set<string>();
      actions.forEach((a, i) => {
        const key = a.title.toLowerCase();
        if (seen.has(key))
          ctx.addIssue({ code: 'custom', path: [i, 'title'], message: `duplicate action "${a.title}"` });
        seen.add(key);
      });
    }),
});

export const PipelineSchema = z
  .strictObject({
    stages: z.array(PipelineStageSchema).min(2),
    lostReasons: z.array(z.string().min(1).max(80)).min(1),
    /** An open opportunity whose stage has not changed for this many days is stale. @default 14 */
    staleAfterDays: z.number().int().min(1).max(365).default(14),
  })
  .refine((p) => p.stages.some((s) => s.outcome === 'won') && p.stages.some((s) => s.outcome === 'lost'), {
    message: 'the pipeline needs one stage with outcome "won" and one with outcome "lost"',
    path: ['stages'],
  });

export const AutoResponseSchema = z.strictObject({
  /** @default true */
  enabled: z.boolean().default(true),
  /** Template per source channel; `default` covers the rest. */
  templates: z
    .record(z.string(), EmailTemplateSchema)
    .refine((t) => 'default' in t, { message: 'a "default" template is required' }),
});

export const EmailSchema = z.strictObject({
  /** Verified SES identity (a domain or address) the stack creates. */
  identity: z.string().min(3),
  from: email,
  fromName: z.string().min(1).max(80),
  replyTo: email.optional(),
  /** Postal address shown in every marketing email (CAN-SPAM). */
  postalAddress: z.string().min(5).max(300),
});

export const AlertsSchema = z.strictObject({
  slack: z.strictObject({
    /** @default true */
    enabled: z.boolean().default(true),
    /** Channel mentioned in the README and alerts; the webhook URL itself lives in Secrets Manager. */
    channel: z.string().regex(/^#[\w-]{1,80}$/, 'a channel such as "#sales-leads"'),
    /** How many score reasons to show. @default 3 */
    topReasons: z.number().int().min(1).max(10).default(3),
  }),
  sns: z.strictObject({
    /** @default true */
    enabled: z.boolean().default(true),
  }),
});

export const CaptureSchema = z.strictObject({
  /** Origins allowed to call the API from the browser (CORS). */
  allowedOrigins: z.array(httpsOrigin).min(1),
  /**
   * Where a plain HTML form is sent after a successful post. Without one, the API serves the
   * thank-you page itself (`GET /next/{token}`), which can offer a sales-ready lead its rep's
   * scheduling page. @default - the API's own thank-you page
   */
  thankYouUrl: url.optional(),
  /** URL prefixes a form's `redirect` field may point at; anything else falls back to `thankYouUrl`. */
  redirectAllowList: z.array(url).default([]),
  /** Hidden field that humans leave empty; not the name of a real field. @default "hp_website" */
  honeypotField: z.string().min(1).default('hp_website'),
  /** Forms submitted faster than this after render (field `_ts`) are treated as bots. @default 3 */
  minSecondsToSubmit: z.number().min(0).max(600).default(3),
  /** Largest accepted body. @default 16384 */
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .max(256 * 1024)
    .default(16_384),
  /** Unknown fields kept per lead in `extra`. @default 25 */
  maxExtraFields: z.number().int().min(0).max(100).default(25),
  /** Identical submissions within this window return the first response. @default 24 */
  idempotencyHours: z.number().int().min(1).max(168).default(24),
  /**
   * Posted field name → the lead field it holds (`companySize`, `jobTitle`...) or the `extra`
   * key to keep it under (`budget_range`), for names no alias covers, such as Salesforce
   * Web-to-Lead custom fields (`00N5e00000AbCdE: budget_range`). @default {}
   */
  fieldMap: z
    .record(
      z.string().min(1).max(100),
      z
        .string()
        .regex(
          /^[A-Za-z][A-Za-z0-9_]{0,39}$/,
          'a lead field such as "companySize", or an extra key such as "budget_range" (letters, digits, _)',
        ),
    )
    .default({}),
});

export const WebhooksSchema = z.strictObject({
  googleAds: z.strictObject({ enabled: z.boolean().default(false) }).default({ enabled: false }),
  meta: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Graph API version used to fetch lead fields. @default "v21.0" */
      graphApiVersion: z
        .string()
        .regex(/^v\d+\.\d+$/)
        .default('v21.0'),
    })
    .default({ enabled: false, graphApiVersion: 'v21.0' }),
  typeform: z.strictObject({ enabled: z.boolean().default(false) }).default({ enabled: false }),
  unbounce: z.strictObject({ enabled: z.boolean().default(false) }).default({ enabled: false }),
  calendly: z.strictObject({ enabled: z.boolean().default(false) }).default({ enabled: false }),
  calcom: z.strictObject({ enabled: z.boolean().default(false) }).default({ enabled: false }),
  linkedin: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** `LinkedIn-Version` of the Lead Sync API calls (YYYYMM). @default "202509" */
      apiVersion: z
        .string()
        .regex(/^\d{6}$/, 'a LinkedIn API version such as "202509" (YYYYMM)')
        .default('202509'),
    })
    .default({ enabled: false, apiVersion: '202509' }),
  /**
   * Generic JSON webhooks: lead field → path in the posted body, dotted (`contact.email`) or a
   * list of segments; a dot inside a key is escaped (`1\.3`) or the path written as a list
   * (`["1.3"]`), for senders such as Gravity Forms whose keys contain dots.
   */
  generic: z
    .strictObject({
      enabled: z.boolean().default(false),
      fieldMap: z
        .record(
          z.string().min(1),
          z
            .union([z.string(), z.array(z.string())], {
              error: 'a path: dotted text such as "contact.email", or a list of keys such as ["1.3"]',
            })
            .superRefine((path, ctx) => {
              const reading = fieldPathSegments(path);
              if (!reading.ok) ctx.addIssue({ code: 'custom', message: reading.reason });
            }),
        )
        .default({}),
    })
    .default({ enabled: false, fieldMap: {} }),
});

export const EnrichmentSchema = z.strictObject({
  /** Optional HTTP enrichment provider (e.g. a Clearbit-style company lookup). Off unless configured. */
  provider: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** `{domain}` and `{email}` are replaced. */
      urlTemplate: url,
      /** @default 1500 */
      timeoutMs: z.number().int().min(100).max(10_000).default(1500),
    })
    .optional(),
});

export const TrackingSchema = z.strictObject({
  /** Lifetime of the visitor token issued at capture. @default 365 */
  tokenTtlDays: z.number().int().min(1).max(730).default(365),
  /** Events from visitors who never convert are deleted after this. @default 30 */
  anonymousRetentionDays: z.number().int().min(1).max(365).default(30),
  /** Paths that count as the pricing page. @default ["/pricing"] */
  pricingPaths: z.array(z.string().startsWith('/')).default(['/pricing']),
});

/**
 * Groups of HTTP API routes, each throttled on its own: every route gets its own token bucket
 * (API Gateway route settings), so a flood on a public route (page events, forms) uses up that
 * route's budget only, never the reps' API or the vendors' webhooks.
 */
export const API_ROUTE_GROUPS = [
  'capture',
  'tracking',
  'webhooks',
  'unsubscribe',
  'reps',
  'reports',
  'booking',
  'slack',
] as const;
export type ApiRouteGroup = (typeof API_ROUTE_GROUPS)[number];

const ThrottleLimitsSchema = z.strictObject({
  /** Steady-state requests per second. */
  rateLimit: z.number().int().min(1).max(10_000),
  /** Requests allowed at once above the steady rate. */
  burstLimit: z.number().int().min(1).max(5_000),
});

export const StackSettingsSchema = z.strictObject({
  /** AWS region to deploy to. */
  region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region such as "eu-west-1"'),
  /** AWS account id; omit to use the CLI's current account. */
  account: z
    .string()
    .regex(/^\d{12}$/, 'a 12-digit AWS account id')
    .optional(),
  throttling: z.strictObject({
    /** Steady-state requests per second of each HTTP API route (the stage default). */
    rateLimit: z.number().int().min(1).max(10_000),
    burstLimit: z.number().int().min(1).max(5_000),
    /**
     * Limits for a group of routes instead of the default, e.g. `tracking: { rateLimit: 20,
     * burstLimit: 40 }`. Each route of the group still has its own bucket.
     * @default {} - every route gets rateLimit/burstLimit
     */
    routes: z
      .strictObject({
        capture: ThrottleLimitsSchema.optional(),
        tracking: ThrottleLimitsSchema.optional(),
        webhooks: ThrottleLimitsSchema.optional(),
        unsubscribe: ThrottleLimitsSchema.optional(),
        reps: ThrottleLimitsSchema.optional(),
        reports: ThrottleLimitsSchema.optional(),
        booking: ThrottleLimitsSchema.optional(),
        slack: ThrottleLimitsSchema.optional(),
      } satisfies Record<ApiRouteGroup, unknown>)
      .default({}),
  }),
  /**
   * Optional AWS WAF in front of the public routes: a CloudFront distribution (the public URL)
   * with a web ACL of per-IP rate-based rules. WAF cannot be attached to an HTTP API itself.
   * See the README ("Optional WAF") for what it costs and what it does not close.
   * @default { enabled: false }
   */
  waf: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Requests one IP address may send to the public routes in any 5 minutes before it is blocked. @default 300 */
      requestsPer5Minutes: z.number().int().min(10).max(2_000_000_000).default(300),
    })
    .default({ enabled: false, requestsPer5Minutes: 300 }),
  /** CloudWatch log retention for functions, the API and state machines. @default 30 */
  logRetentionDays: z.number().int().min(1).max(3653).default(30),
  /** EventBridge archive retention for replay. @default 30 */
  eventArchiveDays: z.number().int().min(1).max(3650).default(30),
  /** Protect the data stack against `cdk destroy`. @default true */
  terminationProtection: z.boolean().default(true),
  /** Address that receives CloudWatch alarm notifications. */
  alarmEmail: email.optional(),
});

/**
 * What the deployment logs and traces, and what that costs (see the README's benchmarks):
 * CloudWatch Logs are priced per byte ingested, so the defaults log one line per handled event
 * and keep the rest behind the log level.
 */
export const ObservabilitySchema = z.strictObject({
  /** The functions' log level: one INFO line per handled event, detail at DEBUG. @default "INFO" */
  logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  /**
   * Share of invocations (0-1) that log at DEBUG whatever `logLevel` says (Powertools debug
   * sampling), to see the detail of a few live requests. @default 0
   */
  debugSampleRate: z.number().min(0).max(1).default(0),
  /**
   * Lambda's own platform lines (START, END, REPORT with duration and memory): `INFO` writes
   * them for every invocation (~300 bytes each), `WARN` only platform warnings and errors
   * (duration and memory remain CloudWatch metrics). @default "WARN"
   */
  platformLogLevel: z.enum(['DEBUG', 'INFO', 'WARN']).default('WARN'),
  /**
   * Step Functions execution logging: `ERROR` logs failed executions only, `ALL` every state
   * (with the state input and output when `includeExecutionData`). @default "ERROR"
   */
  stateMachineLogLevel: z.enum(['OFF', 'FATAL', 'ERROR', 'ALL']).default('ERROR'),
  /** Include state input and output in the state machines' logs (may hold lead data). @default false */
  stateMachineExecutionData: z.boolean().default(false),
  /**
   * Load the bundles' source maps at run time (`--enable-source-maps`): stack traces point at
   * the TypeScript source, but every cold start parses a 1-4 MB map. The maps ship in every
   * bundle's asset either way. @default false
   */
  sourceMaps: z.boolean().default(false),
});

export const ClientConfigSchema = z
  .strictObject({
    client: z.strictObject({
      /** Stack names and tags derive from this; it must match the file name. */
      name: slug,
      displayName: z.string().min(1).max(100),
      /** Country assumed for phone numbers without a country code. */
      defaultCountry: countryCode,
      timezone: TimeZoneSchema,
      currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code such as "EUR"'),
      /** `consent-required`: nurture email only with recorded marketing consent. @default "consent-required" */
      consentMode: z.enum(['consent-required', 'opt-out']).default('consent-required'),
      /**
       * The marketing-consent wording the client's forms show next to the checkbox, stored with
       * every opt-in as the record of what the person agreed to. @default none (opt-ins are
       * recorded with their time and source only)
       */
      consentText: z.string().trim().min(1).max(CONSENT_TEXT_MAX).optional(),
      /**
       * Link to a lead in another system (a CRM), with `{leadId}`: alerts then open it there
       * instead of in the console. @default - alerts open the lead in the console
       */
      leadUrlTemplate: z.string().includes('{leadId}', { message: 'must contain {leadId}' }).optional(),
    }),
    stack: StackSettingsSchema,
    capture: CaptureSchema,
    teams: z.array(TeamSchema).min(1),
    reps: z.array(RepSchema).min(1),
    territories: z.array(TerritorySchema).min(1),
    scoring: ScoringSchema,
    routing: RoutingSchema,
    sla: SlaSchema,
    nurture: NurtureSchema,
    sms: SmsSchema.default(SmsSchema.parse({})),
    autoResponse: AutoResponseSchema,
    email: EmailSchema,
    alerts: AlertsSchema,
    pipeline: PipelineSchema,
    webhooks: WebhooksSchema.default(WebhooksSchema.parse({})),
    enrichment: EnrichmentSchema.default({}),
    tracking: TrackingSchema.default(TrackingSchema.parse({})),
    observability: ObservabilitySchema.default(ObservabilitySchema.parse({})),
  })
  .superRefine(checkReferences);

type RawConfig = z.output<z.ZodObject<(typeof ClientConfigSchema)['shape']>>;

/** Cross-references the schema alone cannot express: every id used must exist. */
function checkReferences(c: RawConfig, ctx: z.RefinementCtx): void {
  const teamIds = new Set(c.teams.map((t) => t.id));
  const repIds = new Set(c.reps.map((r) => r.id));
  const sequenceIds = new Set(c.nurture.sequences.map((s) => s.id));
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  const unique = (ids: string[], path: string) => {
    const seen = new Set<string>();
    ids.forEach((v, i) => {
      if (seen.has(v)) issue([path, i, 'id'], `duplicate id "${v}"`);
      seen.add(v);
    });
  };
  unique(
    c.reps.map((r) => r.id),
    'reps',
  );
  unique(
    c.teams.map((t) => t.id),
    'teams',
  );
  unique(
    c.nurture.sequences.map((s) => s.id),
    'nurture',
  );

  c.reps.forEach((r, i) => {
    if (!teamIds.has(r.team)) issue(['reps', i, 'team'], `unknown team "${r.team}"`);
  });
  c.teams.forEach((t, i) => {
    if (!repIds.has(t.manager)) issue(['teams', i, 'manager'], `unknown rep "${t.manager}"`);
    if (t.backupTeam !== undefined && !teamIds.has(t.backupTeam))
      issue(['teams', i, 'backupTeam'], `unknown team "${t.backupTeam}"`);
    if (t.backupTeam === t.id) issue(['teams', i, 'backupTeam'], 'a team cannot be its own backup');
  });
  c.territories.forEach((t, i) => {
    if (!teamIds.has(t.team)) issue(['territories', i, 'team'], `unknown team "${t.team}"`);
  });
  const seenCountries = new Map<string, string>();
  c.territories.forEach((t, i) => {
    if (t.countries === '*') return;
    for (const cc of t.countries) {
      const other = seenCountries.get(cc);
      if (other) issue(['territories', i, 'countries'], `${cc} is already in territory "${other}"`);
      seenCountries.set(cc, t.id);
    }
  });
  if (c.territories.filter((t) => t.countries === '*').length > 1)
    issue(['territories'], 'only one territory may use "*"');
  c.routing.rules.forEach((r, i) => {
    if ('team' in r.target && !teamIds.has(r.target.team))
      issue(['routing', 'rules', i, 'target', 'team'], `unknown team "${r.target.team}"`);
    if ('nurture' in r.target && !sequenceIds.has(r.target.nurture))
      issue(['routing', 'rules', i, 'target', 'nurture'], `unknown nurture sequence "${r.target.nurture}"`);
  });
  if (!repIds.has(c.routing.defaultOwner))
    issue(['routing', 'defaultOwner'], `unknown rep "${c.routing.defaultOwner}"`);
  if (!sequenceIds.has(c.nurture.defaultSequence))
    issue(['nurture', 'defaultSequence'], `unknown nurture sequence "${c.nurture.defaultSequence}"`);
  c.nurture.triggers.forEach((t, i) => {
    if (!sequenceIds.has(t.sequence))
      issue(['nurture', 'triggers', i, 'sequence'], `unknown nurture sequence "${t.sequence}"`);
  });
  for (const problem of nurtureGraphProblems(c.nurture)) issue(problem.path, problem.message);
  if (c.sms.enabled && c.sms.originationIdentity === undefined)
    issue(['sms', 'originationIdentity'], 'required when sms.enabled is true');
  c.nurture.sequences.forEach((s, si) => {
    s.steps.forEach((step, ki) => {
      if (step.channel === 'sms' && !c.sms.enabled)
        issue(['nurture', 'sequences', si, 'steps', ki, 'channel'], 'an SMS step needs sms.enabled: true');
    });
  });
  const stageIds = c.pipeline.stages.map((s) => s.id);
  stageIds.forEach((s, i) => {
    if (stageIds.indexOf(s) !== i) issue(['pipeline', 'stages', i, 'id'], `duplicate stage "${s}"`);
  });
}

/** A validated client configuration, defaults applied. */
export type ClientConfig = z.output<typeof ClientConfigSchema>;
/** A client configuration as written in `clients/<name>.yaml`. */
export type ClientConfigInput = z.input<typeof ClientConfigSchema>;
export type Rep = ClientConfig['reps'][number];
export type Team = ClientConfig['teams'][number];
export type Territory = ClientConfig['territories'][number];
export type WorkingHours = Rep['workingHours'];
export type Weekday = z.output<typeof WeekdaySchema>;
export type Seniority = z.output<typeof SenioritySchema>;
export type Priority = z.output<typeof PrioritySchema>;
export type ScoringModel = ClientConfig['scoring'];
export type FitRule = ScoringModel['fit'][number];
export type EngagementRule = ScoringModel['engagement'][number];
export type RoutingRule = ClientConfig['routing']['rules'][number];
export type SlaPolicy = ClientConfig['sla'];
export type NurtureSequence = ClientConfig['nurture']['sequences'][number];
export type PipelineStage = ClientConfig['pipeline']['stages'][number];
export type EmailTemplate = z.output<typeof EmailTemplateSchema>;
