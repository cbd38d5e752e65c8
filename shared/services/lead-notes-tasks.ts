import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { TASK_TITLE_MAX_LENGTH } from '../config/schema-pipeline';
import { actorName, type Caller, requireLeadAccess } from '../domain/access';
import { TaskNotFoundError } from '../domain/errors';
import { changeTask, type LeadNote, type LeadTask, NOTE_MAX_LENGTH } from '../domain/lead-tasks';
import { NoteItem, splitPartition, TaskItem } from './lead-queries';
import { clock, type LeadsDeps, parseInput } from './leads';
/** Notes and tasks on a lead, added once per `Idempotency-Key`. */

/** Body of `POST /leads/{id}/notes`. */
export const NoteSchema = z.strictObject({
  text: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(NOTE_MAX_LENGTH, `at most ${NOTE_MAX_LENGTH} characters`),
});

/** Body of `POST /leads/{id}/tasks`. */
export const TaskSchema = z.strictObject({
  title: z.string().trim().min(1, 'must not be empty').max(TASK_TITLE_MAX_LENGTH),
  dueAt: z.iso.datetime({ offset: true, error: 'an ISO timestamp such as 2025-06-30T09:00:00Z' }),
  done: z.boolean().default(false),
});

/** Body of `PATCH /leads/{id}/tasks/{taskId}`: mark done or open again, or rename. */
export const TaskUpdateSchema = z
  .strictObject({
    title: z.string().trim().min(1, 'must not be empty').max(TASK_TITLE_MAX_LENGTH).optional(),
    done: z.boolean().optional(),
  })
  .refine((u) => u.title !== undefined || u.done !== undefined, {
    message: 'give "done" and/or "title"',
  });

// ------------------------------------------------------------------------------------ notes and tasks

/**
 * An id derived from the client's `Idempotency-Key` header, so a retried POST finds what the
 * first one stored instead of adding it twice.
 */
function idFromKey(leadId: string, kind: string, idempotencyKey: string): string {
  return createHash('sha256')
    .update(`${kind}\u0000${leadId}\u0000${idempotencyKey}`)
    .digest('hex')
    .slice(0, 32);
}

/** `POST /leads/{id}/notes`. @returns the note and whether it was new (false: a retry with the same Idempotency-Key). */
export async function addNote(
  caller: Caller,
  leadId: string,
  body: unknown,
  idempotencyKey: string | undefined,
  deps: LeadsDeps,
): Promise<{ note: LeadNote; created: boolean }> {
  const { text } = parseInput(NoteSchema, body);
  const lead = await deps.store.requireLead(leadId);
  requireLeadAccess(caller, lead, 'work', 'add notes to this lead', deps.config);
  const id = idempotencyKey ? idFromKey(lead.id, 'note', idempotencyKey) : (deps.newId ?? randomUUID)();
  if (idempotencyKey) {
    const existing = splitPartition(await deps.store.listLeadPartition(lead.id))
      .notes.map((item) => NoteItem.safeParse(item))
      .find((r) => r.success && r.data.id === id);
    if (existing?.success) return { note: existing.data, created: false };
  }
  const note: LeadNote = {
    id,
    leadId: lead.id,
    at: clock(deps)().toISOString(),
    by: actorName(caller),
    text,
  };
  const created = await deps.store.putNote(note);
  return { note, created };
}

/** `POST /leads/{id}/tasks`. @returns the task and whether it was new. */
export async function addTask(
  caller: Caller,
  leadId: string,
  body: unknown,
  idempotencyKey: string | undefined,
  deps: LeadsDeps,
): Promise<{ task: LeadTask; created: boolean }> {
  const input = parseInput(TaskSchema, body);
  const lead = await deps.store.requireLead(leadId);
  requireLeadAccess(caller, lead, 'work', 'add tasks to this lead', deps.config);
  const id = idempotencyKey ? idFromKey(lead.id, 'task', idempotencyKey) : (deps.newId ?? randomUUID)();
  if (idempotencyKey) {
    const existing = await findTask(lead.id, id, deps);
    if (existing) return { task: existing, created: false };
  }
  const task: LeadTask = {
    id,
    leadId: lead.id,
    createdAt: clock(deps)().toISOString(),
    by: actorName(caller),
    title: input.title,
    dueAt: new Date(input.dueAt).toISOString(),
    done: input.done,
  };
  const created = await deps.store.putTask(task);
  return { task, created };
}

/**
 * `PATCH /leads/{id}/tasks/{taskId}`: marks a task done (recording when and by whom), opens it
 * again, or renames it. Setting what is already set changes nothing, so a retry is harmless.
 * @throws TaskNotFoundError when the lead has no such task.
 */
export async function updateTask(
  caller: Caller,
  leadId: string,
  taskId: string,
  body: unknown,
  deps: LeadsDeps,
): Promise<{ task: LeadTask; changed: boolean }> {
  const change = parseInput(TaskUpdateSchema, body);
  const lead = await deps.store.requireLead(leadId);
  requireLeadAccess(caller, lead, 'work', 'update tasks of this lead', deps.config);
  const before = await findTask(lead.id, taskId, deps);
  if (!before) throw new TaskNotFoundError(lead.id, taskId);
  const task = changeTask(before, change, clock(deps)().toISOString(), actorName(caller));
  const changed = task.done !== before.done || task.title !== before.title;
  if (changed) await deps.store.saveTask(task);
  return { task, changed };
}

/** A lead's task by id, from the lead's partition. */
async function findTask(leadId: string, taskId: string, deps: LeadsDeps): Promise<LeadTask | undefined> {
  const found = splitPartition(await deps.store.listLeadPartition(leadId))
    .tasks.map((item) => TaskItem.safeParse(item))
    .find((r) => r.success && r.data.id === taskId);
  return found?.success ? found.data : undefined;
}
