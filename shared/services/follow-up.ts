import type { ClientConfig } from '../config/schema';
import { LeadChangedError } from '../domain/errors';
import {
  planAssignmentFollowUp,
  planContactFollowUp,
  planStageActions,
  type TaskPlan,
} from '../domain/follow-up';
import type { Lead } from '../domain/lead';
import type { LeadTask } from '../domain/lead-tasks';
import type { EventDetail } from '../events/catalogue';

/**
 * The follow-up work the system creates, as the `follow-up` function's use case: on `Lead
 * Assigned`, `Lead Contacted` and `Lead Stage Changed` it reads the lead and its tasks (one
 * Query), plans with `domain/follow-up.ts`, and writes the plan in one conditional transaction.
 * Creating is conditional on a deterministic key, closing on the task still existing (with
 * `done` already set); a redelivered or concurrent event changes nothing twice.
 */

/** Storage used here (implemented by `LeadRepository`). */
export interface FollowUpStore {
  /** The lead and its tasks, strongly consistent (one read). */
  getLeadWithTasks(leadId: string): Promise<{ lead: Lead; tasks: LeadTask[] } | undefined>;
  /**
   * Creates (if absent) and closes (if present) tasks in one write, guarded by the assignment
   * being current and uncontacted when `guard` is given. @returns false when a condition failed.
   */
  writeTasks(
    plan: Pick<TaskPlan, 'create' | 'close'>,
    guard?: { readonly leadId: string; readonly owner: string; readonly assignedAt: string },
  ): Promise<boolean>;
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

/** Attempts at a write whose condition failed (each one re-reads and plans again). */
const MAX_ATTEMPTS = 4;

/**
 * Plans and writes the tasks an event calls for: one read (the lead and its tasks) and one
 * conditional transaction. A redelivery, concurrent or late, finds its tasks (or a failed
 * condition, re-reads and finds them) and writes nothing. A follow-up is created only while
 * its assignment is current and the lead uncontacted, checked in the same transaction, so a
 * contact recorded meanwhile either sees the task (and its event closes it) or stops it.
 */
export async function handleFollowUpEvent(event: FollowUpEvent, deps: FollowUpDeps): Promise<FollowUpResult> {
  const leadId = event.detail.leadId;
  for (let attempt = 1; ; attempt++) {
    const read = await deps.store.getLeadWithTasks(leadId);
    if (!read) return { leadId, created: [], closed: [], skipped: 'the lead no longer exists (erased?)' };
    const { lead, tasks } = read;
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
    const existing = new Set(tasks.map((t) => t.id));
    const create = plan.create.filter((t) => !existing.has(t.id));
    const guard =
      event.type === 'Lead Assigned' && create.length > 0
        ? { leadId, owner: event.detail.repId, assignedAt: event.detail.assignedAt }
        : undefined;
    if (await deps.store.writeTasks({ create, close: plan.close }, guard)) {
      return {
        leadId,
        created: create.map((t) => t.id),
        closed: plan.close.map((t) => t.id),
        ...(plan.skipped ? { skipped: plan.skipped } : {}),
      };
    }
    if (attempt >= MAX_ATTEMPTS) throw new LeadChangedError(leadId);
  }
}
