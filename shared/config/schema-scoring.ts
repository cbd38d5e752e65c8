import { z } from 'zod';
import { ConditionSchema } from '../domain/conditions';
import { id } from './schema-primitives';
import { ActivityTypeSchema } from './schema-vocabulary';

/** The client file's scoring model: fit and engagement rules, thresholds, decay. */

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
