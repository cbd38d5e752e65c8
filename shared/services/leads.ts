import type { ClientConfig } from '../config/schema';
import { parseInput } from '../domain/input';
import type { Activity, Lead } from '../domain/lead';
import type { LeadNote, LeadTask } from '../domain/lead-tasks';
import type { DetailType, PipelineEvent } from '../events/catalogue';
import type { LeadQuery } from '../ports/lead-store';
import type { OutboxEntry } from '../ports/outbox';
import type { Page } from '../ports/page';
/**
 * The reps' and managers' use cases behind the leads API share these ports and this input
 * parsing: queries (`lead-queries.ts`), commands (`lead-commands.ts`), notes and tasks
 * (`lead-notes-tasks.ts`) and privacy (`lead-privacy.ts`). The rules live in `domain/`
 * (`access.ts`, `first-touch.ts`, `pipeline.ts`, `reassignment.ts`, `lead-tasks.ts`); the use
 * cases read, decide, write and announce.
 */

// ------------------------------------------------------------------------------------ ports

/** Storage used here (implemented by `LeadRepository`). */
export interface LeadsStore {
  getLead(leadId: string): Promise<Lead | undefined>;
  requireLead(leadId: string): Promise<Lead>;
  findLeads(query: LeadQuery): Promise<Page<Lead>>;
  listLeadPartition(leadId: string): Promise<Record<string, unknown>[]>;
  saveLead(
    previous: Lead,
    next: Lead,
    options?: { activities?: readonly Activity[]; capacity?: number; outbox?: OutboxEntry },
  ): Promise<Lead>;
  getActivity(leadId: string, at: string, activityId: string): Promise<Activity | undefined>;
  markActivityAnnounced(leadId: string, at: string, activityId: string): Promise<void>;
  /** An outbox entry still waiting to be published, if any. */
  getOutboxEntry(entry: Pick<OutboxEntry, 'id' | 'at'>): Promise<OutboxEntry | undefined>;
  /** Removes an outbox entry whose events are on the bus. */
  clearOutbox(entry: Pick<OutboxEntry, 'id' | 'at'>): Promise<void>;
  putNote(note: LeadNote): Promise<boolean>;
  putTask(task: LeadTask): Promise<boolean>;
  saveTask(task: LeadTask): Promise<void>;
  listTasks(leadId: string): Promise<LeadTask[]>;
  findLeadIdByDedupeKey(dedupeKey: string): Promise<string | undefined>;
  getSuppression(emailHash: string): Promise<{ reason?: string; at?: string } | undefined>;
  suppress(emailHash: string, reason: string, at: string): Promise<void>;
  deleteItems(itemKeys: ReadonlyArray<{ pk: string; sk: string }>): Promise<void>;
  deleteLeadAndPointers(lead: Lead, alsoDedupeKeys?: readonly string[]): Promise<number>;
}

/** Publishes catalogue events (implemented by `EventPublisher`). */
export interface LeadsPublisher {
  publish(...events: ReadonlyArray<PipelineEvent<DetailType>>): Promise<void>;
}

/**
 * Ends a lead's SLA ladder: no rung after this one runs. A ladder is named after its assignment
 * (`slaExecutionName`); an escalation that reassigned the lead records its ladder's name on the
 * lead (`slaProgress.execution`).
 */
export interface SlaClock {
  stop(ladder: string, cause: string): Promise<void>;
}

export interface LeadsDeps {
  readonly store: LeadsStore;
  readonly publisher: LeadsPublisher;
  readonly sla: SlaClock;
  readonly config: ClientConfig;
  readonly now?: () => Date;
  readonly newId?: () => string;
  /** Told about best-effort steps that failed without failing the request. */
  readonly warn?: (message: string, details: Record<string, unknown>) => void;
}

// ------------------------------------------------------------------------------------ input

/** Parses input with a zod schema; a bad field is answered 400 naming it (`shared/domain/input.ts`). */
export { parseInput };

// ------------------------------------------------------------------------------------ helpers

export function clock(deps: Pick<LeadsDeps, 'now'>): () => Date {
  return deps.now ?? (() => new Date());
}
