import { z } from 'zod';
import { id, url } from './schema-primitives';
import { WorkingHoursSchema } from './schema-team';
/** The client file's nurture: email templates, sequences and their steps and branches, triggers. */

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
