import { z } from 'zod';
import { ConditionSchema } from '../domain/conditions';
import { id } from './schema-primitives';
import { PrioritySchema } from './schema-vocabulary';
/** The client file's routing rules: which team or rep takes which lead, and how. */

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
