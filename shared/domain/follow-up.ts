import type { ClientConfig } from '../config/schema';
import type { Lead } from './lead';
import type { AssignmentFacts, ContactFacts, StageChangeFacts } from './lead-events';
import { changeTask, isOverdue, type LeadTask, type TaskCloseReason } from './lead-tasks';
import { leadActivityId, pipelineStage } from './pipeline';
import { assignmentDeadline } from './sla';

/**
 * Follow-up work the system creates, as pure planning: the first-contact task every assignment
 * asks for (due at the SLA deadline), the required actions of the pipeline stage a deal enters,
 * and which of those tasks a later event closes. The `follow-up` function reads the lead and its
 * tasks, asks these functions what to write, and writes it.
 *
 * Exactly once: every system task has an id derived from what caused it (the assignment's time,
 * the stage entry's time and the action's position), and is written only if absent, so an event
 * delivered twice, concurrently or late creates one task.
 */

/** How the system is named as the author of the tasks it creates and closes. */
export const SYSTEM_ACTOR = 'system';

/** The id of the follow-up task of the assignment made at `assignedAt`. */
export function followUpTaskId(leadId: string, assignedAt: string): string {
  return leadActivityId(leadId, `follow-up-${Date.parse(assignedAt)}`);
}

/** The id of the `index`-th required action of the stage the deal entered at `enteredAt`. */
export function stageActionTaskId(leadId: string, enteredAt: string, index: number): string {
  return leadActivityId(leadId, `action-${Date.parse(enteredAt)}-${index}`);
}

/** What to write: tasks to create (only if absent) and open tasks to close. */
export interface TaskPlan {
  readonly create: readonly LeadTask[];
  readonly close: readonly LeadTask[];
  /** Why nothing is created, for the log. */
  readonly skipped?: string;
}

const NOTHING: TaskPlan = { create: [], close: [] };

/** The task closed by the system at `at`, crediting `by`, for `reason`. */
export function closeTask(task: LeadTask, reason: TaskCloseReason, at: string, by: string): LeadTask {
  return { ...changeTask(task, { done: true }, at, by), closedBecause: reason };
}

/**
 * The follow-up of a `Lead Assigned` event: a task for the new owner due at the assignment's SLA
 * deadline (the same instant the ladder waits for), titled "immediate" for high-priority leads.
 * Open follow-ups of earlier assignments are closed as `reassigned`, so the task moves with the
 * lead. Nothing is created when the event is not the lead's current assignment (a later one
 * superseded it: its own event creates that task) or the lead was already contacted (the
 * `Lead Contacted` event overtook this one).
 */
export function planAssignmentFollowUp(
  lead: Lead,
  assignment: AssignmentFacts,
  tasks: readonly LeadTask[],
  config: Pick<ClientConfig, 'sla' | 'reps'>,
): TaskPlan {
  if (lead.owner !== assignment.repId || lead.assignedAt !== assignment.assignedAt)
    return { ...NOTHING, skipped: 'a later assignment superseded this one' };
  const id = followUpTaskId(lead.id, assignment.assignedAt);
  const close = tasks
    .filter((t) => t.origin === 'follow-up' && !t.done && t.id !== id)
    .map((t) => closeTask(t, 'reassigned', assignment.assignedAt, SYSTEM_ACTOR));
  if (lead.firstTouchAt !== undefined)
    return { create: [], close, skipped: 'the lead was already contacted' };
  if (tasks.some((t) => t.id === id)) return { create: [], close, skipped: 'the follow-up exists' };
  const owner = config.reps.find((r) => r.id === assignment.repId);
  const due = assignmentDeadline(config.sla, owner, new Date(assignment.assignedAt), assignment.ladderStep);
  const task: LeadTask = {
    id,
    leadId: lead.id,
    createdAt: assignment.assignedAt,
    by: SYSTEM_ACTOR,
    title:
      assignment.priority === 'high'
        ? 'Immediate follow-up: make first contact'
        : 'Follow up: make first contact',
    dueAt: due.toISOString(),
    done: false,
    origin: 'follow-up',
    assignee: assignment.repId,
  };
  return { create: [task], close };
}

/** `Lead Contacted` closes every open follow-up of the lead, credited to the rep who made contact. */
export function planContactFollowUp(contact: ContactFacts, tasks: readonly LeadTask[]): TaskPlan {
  return {
    create: [],
    close: tasks
      .filter((t) => t.origin === 'follow-up' && !t.done)
      .map((t) => closeTask(t, 'contacted', contact.occurredAt, contact.repId)),
  };
}

/**
 * `Lead Stage Changed`: the entered stage's required actions become tasks for the deal's owner,
 * each due `dueInHours` after the entry. A deal that closes (won or lost) closes the open
 * required actions of its earlier stages as `deal-closed`. A stale event (the deal has moved on
 * since) creates nothing.
 */
export function planStageActions(
  lead: Lead,
  change: StageChangeFacts,
  tasks: readonly LeadTask[],
  config: Pick<ClientConfig, 'pipeline'>,
): TaskPlan {
  if (lead.pipelineStage !== change.to || lead.pipelineStageAt !== change.occurredAt)
    return { ...NOTHING, skipped: 'the deal has changed stage since' };
  const stage = pipelineStage(config, change.to);
  if (!stage) return { ...NOTHING, skipped: `stage "${change.to}" is not in the client file` };
  const close =
    stage.outcome === 'open'
      ? []
      : tasks
          .filter((t) => t.origin === 'stage-action' && !t.done && t.pipelineStage !== stage.id)
          .map((t) => closeTask(t, 'deal-closed', change.occurredAt, SYSTEM_ACTOR));
  const existing = new Set(tasks.map((t) => t.id));
  const entered = Date.parse(change.occurredAt);
  const create = stage.requiredActions
    .map(
      (action, index): LeadTask => ({
        id: stageActionTaskId(lead.id, change.occurredAt, index),
        leadId: lead.id,
        createdAt: change.occurredAt,
        by: SYSTEM_ACTOR,
        title: action.title,
        dueAt: new Date(entered + action.dueInHours * 3_600_000).toISOString(),
        done: false,
        origin: 'stage-action',
        pipelineStage: stage.id,
        ...(lead.owner !== undefined ? { assignee: lead.owner } : {}),
      }),
    )
    .filter((t) => !existing.has(t.id));
  return { create, close };
}

/** A lead's open tasks in a list: how many are overdue, and the earliest due time. */
export interface TaskDigest {
  readonly openTasks: number;
  readonly overdueTasks: number;
  /** Due time of the earliest open task. */
  readonly nextTaskDueAt?: string;
}

/** Counts a lead's open and overdue tasks at `now`. */
export function digestTasks(tasks: readonly LeadTask[], now: Date): TaskDigest {
  const open = tasks.filter((t) => !t.done).sort((a, b) => (a.dueAt < b.dueAt ? -1 : 1));
  return {
    openTasks: open.length,
    overdueTasks: open.filter((t) => isOverdue(t, now)).length,
    ...(open[0] ? { nextTaskDueAt: open[0].dueAt } : {}),
  };
}
