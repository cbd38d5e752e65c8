import { z } from 'zod';
import { TEXT_LIMITS } from './lead';
/** Notes and tasks on a lead: their shapes, limits, and how a task changes. */

// ------------------------------------------------------------------------------------ notes and tasks

/** Longest note. */
export const NOTE_MAX_LENGTH = TEXT_LIMITS.message;

/** A rep's note on a lead. */
export interface LeadNote {
  readonly id: string;
  readonly leadId: string;
  readonly at: string;
  readonly by: string;
  readonly text: string;
}

/**
 * Why the system created a task: `follow-up` is the first contact an assignment asks for (due at
 * the SLA deadline), `stage-action` a required action of the pipeline stage the deal entered.
 * Tasks people add have no origin.
 */
export const TASK_ORIGINS = ['follow-up', 'stage-action'] as const;
export type TaskOrigin = (typeof TASK_ORIGINS)[number];

/** Why the system closed a task it created (a person closing one leaves this unset). */
export const TASK_CLOSE_REASONS = ['contacted', 'reassigned', 'deal-closed'] as const;
export type TaskCloseReason = (typeof TASK_CLOSE_REASONS)[number];

/** A stored task, as read back (unknown attributes dropped). */
export const LeadTaskSchema = z.object({
  id: z.string(),
  leadId: z.string(),
  createdAt: z.string(),
  by: z.string(),
  title: z.string(),
  dueAt: z.string(),
  done: z.boolean(),
  doneAt: z.string().optional(),
  doneBy: z.string().optional(),
  origin: z.enum(TASK_ORIGINS).optional(),
  assignee: z.string().optional(),
  pipelineStage: z.string().optional(),
  closedBecause: z.enum(TASK_CLOSE_REASONS).optional(),
});

/** A follow-up task on a lead. */
export interface LeadTask {
  readonly id: string;
  readonly leadId: string;
  readonly createdAt: string;
  readonly by: string;
  readonly title: string;
  readonly dueAt: string;
  readonly done: boolean;
  /** When and by whom the task was marked done; absent while it is open. */
  readonly doneAt?: string;
  readonly doneBy?: string;
  /** Set on tasks the system created; see {@link TaskOrigin}. */
  readonly origin?: TaskOrigin;
  /** The rep the task is for (the lead's owner when it was created). */
  readonly assignee?: string;
  /** For a `stage-action`: the stage whose entry created it. */
  readonly pipelineStage?: string;
  /** Set when the system closed the task; see {@link TaskCloseReason}. */
  readonly closedBecause?: TaskCloseReason;
}

/** Whether an open task's due time has passed. */
export function isOverdue(task: Pick<LeadTask, 'done' | 'dueAt'>, now: Date): boolean {
  return !task.done && Date.parse(task.dueAt) < now.getTime();
}

/** What a rep may change on a task: mark it done or open again, or rename it. */
export interface TaskChange {
  readonly title?: string;
  readonly done?: boolean;
}

/**
 * The task after `change`, made by `by` at `at`. Marking it done records when and by whom (a task
 * already done keeps its first record); opening it again clears them.
 */
export function changeTask(task: LeadTask, change: TaskChange, at: string, by: string): LeadTask {
  const { doneAt: _doneAt, doneBy: _doneBy, closedBecause: _closedBecause, ...open } = task;
  const title = change.title ?? task.title;
  if (!(change.done ?? task.done)) return { ...open, title, done: false };
  return task.done ? { ...task, title } : { ...open, title, done: true, doneAt: at, doneBy: by };
}
