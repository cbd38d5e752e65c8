import type { ClientConfig } from '../config/schema';
import { TaskNotFoundError } from '../domain/errors';
import {
  closeTask,
  planAssignmentFollowUp,
  planContactFollowUp,
  planStageActions,
  SYSTEM_ACTOR,
  type TaskPlan,
} from '../domain/follow-up';
import type { Lead } from '../domain/lead';
import type { LeadTask } from '../domain/lead-tasks';
import type { EventDetail } from '../events/catalogue';

/**
 * The follow-up work the system creates, as the `follow-up` function's use case: on `Lead
 * Assigned`, `Lead Contacted` and `Lead Stage Changed` it reads the lead and its tasks, plans
 * with `domain/follow-up.ts`, and writes. Creating is a conditional put on a deterministic key,
 * closing a write of the task with `done` already set; both are safe to repeat, so a redelivered
 * or concurrent event changes nothing twice.
 */

/** Storage used here (implemented by `LeadRepository`). */
export interface FollowUpStore {
  getLead(leadId: string): Promise<Lead | undefined>;
  listTasks(leadId: string): Promise<LeadTask[]>;
  /** Stores the task unless its key exists. @returns whether it was new. */
  putTask(task: LeadTask): Promise<boolean>;
  /** @throws TaskNotFoundError when the task is gone (the lead was erased). */
  saveTask(task: LeadTask): Promise<void>;
}

export interface FollowUpDeps {
  readonly store: FollowUpStore;
  readonly config: Pick<ClientConfig, 'sla' | 'reps' | 'pipeline'>;
}

/** What one event did. */
export interface FollowUpResult {
  readonly leadId: string;
  /** Ids of tasks created now (a redelivery creates none). */
  readonly created: readonly string[];
  /** Ids of tasks closed now. */
  readonly closed: readonly string[];
  readonly skipped?: string;
}

/** The event types the function consumes. */
export const FOLLOW_UP_EVENT_TYPES = ['Lead Assigned', 'Lead Contacted', 'Lead Stage Changed'] as const;
export type FollowUpEventType = (typeof FOLLOW_UP_EVENT_TYPES)[number];

/** One consumed event with its parsed detail. */
export type FollowUpEvent = {
  [T in FollowUpEventType]: { readonly type: T; readonly detail: EventDetail<T> };
}[FollowUpEventType];

/** Plans and writes the tasks an event calls for. */
export async function handleFollowUpEvent(event: FollowUpEvent, deps: FollowUpDeps): Promise<FollowUpResult> {
  const leadId = event.detail.leadId;
  const lead = await deps.store.getLead(leadId);
  if (!lead) return { leadId, created: [], closed: [], skipped: 'the lead no longer exists (erased?)' };
  const tasks = await deps.store.listTasks(leadId);
  let plan: TaskPlan;
  switch (event.type) {
    case 'Lead Assigned':
      plan = planAssignmentFollowUp(lead, event.detail, tasks, deps.config);
      break;
    case 'Lead Contacted':
      plan = planContactFollowUp(event.detail, tasks);
      break;
    case 'Lead Stage Changed':
      plan = planStageActions(lead, event.detail, tasks, deps.config);
      break;
  }
  const result = await apply(leadId, plan, deps);
  if (event.type === 'Lead Assigned' && result.created.length > 0) {
    // Contact may have been recorded between our read and our write, with its event handled
    // before the task existed: look again, and close what we just created if so.
    const after = await deps.store.getLead(leadId);
    if (after?.firstTouchAt !== undefined) {
      const late = plan.create.map((t) =>
        closeTask(t, 'contacted', after.firstTouchAt ?? t.createdAt, after.owner ?? SYSTEM_ACTOR),
      );
      const closed = await apply(leadId, { create: [], close: late }, deps);
      return { ...result, closed: [...result.closed, ...closed.closed] };
    }
  }
  return result;
}

async function apply(leadId: string, plan: TaskPlan, deps: FollowUpDeps): Promise<FollowUpResult> {
  const created: string[] = [];
  const closed: string[] = [];
  for (const task of plan.create) if (await deps.store.putTask(task)) created.push(task.id);
  for (const task of plan.close) {
    try {
      await deps.store.saveTask(task);
      closed.push(task.id);
    } catch (error) {
      // Erased meanwhile: nothing left to close.
      if (!(error instanceof TaskNotFoundError)) throw error;
    }
  }
  return { leadId, created, closed, ...(plan.skipped ? { skipped: plan.skipped } : {}) };
}
