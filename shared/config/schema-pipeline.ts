import { z } from 'zod';
import { id } from './schema-primitives';
/** The client file's sales pipeline: stages, their probabilities and required actions, lost reasons. */

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
