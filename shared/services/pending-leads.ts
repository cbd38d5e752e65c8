import { consentStatement } from '../domain/consent';
import { enrichProfile } from '../domain/enrichment';
import { DuplicateLeadError, LeadChangedError } from '../domain/errors';
import type { Lead } from '../domain/lead';
import type { OutboxEntry } from '../ports/outbox';
import type { PendingLead, PendingLeadStore } from '../ports/pending-leads';
import { announce } from './announce';
import { capturedEvent, type IntakeDeps, intakeLead, normaliseRequest } from './intake';
import type { PlatformRead } from './webhook-intake';

/**
 * Ad-platform leads stored `pending` (no access token yet, the platform refused the read, or
 * the answers held no way to reach the person) are read again by the relay on each run, with a
 * growing pause per lead, until their answers arrive:
 * - a new person: the stub becomes the complete lead (the same id), claims its dedupe key and
 *   is announced with `Lead Captured` (`pending: false`), so it is scored and routed as if it had
 *   just arrived;
 * - a known person: the answers are merged into that person's lead as a resubmission, and the
 *   stub goes (its provider id then points at the person's lead).
 *
 * Each step is safe to repeat: a run that dies midway is finished by the next one.
 */

/** First pause after a failed read; it doubles per attempt up to {@link MAX_PAUSE_MS}. */
export const FIRST_PAUSE_MS = 15 * 60_000;
/** Longest pause between two reads of the same lead. */
export const MAX_PAUSE_MS = 24 * 3_600_000;
/**
 * Meta and LinkedIn keep a lead's answers for 90 days; after that no read can succeed, so the
 * relay stops (the stub stays `pending` for a person, and the give-up is logged as an error).
 */
export const GIVE_UP_AFTER_MS = 90 * 24 * 3_600_000;
/** Markers read per run (a missing token can leave many waiting; each run takes this many). */
export const PENDING_PER_RUN = 25;

/** What the relay needs to read pending leads again. */
export type PendingLeadDeps = IntakeDeps & {
  readonly store: IntakeDeps['store'] & PendingLeadStore;
  /** Reads the lead's answers from its platform, with the credentials of this run. */
  readonly read: (entry: PendingLead) => Promise<PlatformRead>;
};

/** What became of one pending lead in a run. */
export type PendingLeadOutcome =
  /** Read and stored as a complete lead, announced (or left to the relay's outbox sweep). */
  | 'completed'
  /** Read; the person was known, so the answers went to their lead and the stub is gone. */
  | 'merged'
  /** Not readable yet: tried again after a pause. */
  | 'waiting'
  /** Readable, but the answers hold no usable email or phone: left pending for a person. */
  | 'unusable'
  /** Past the platform's retention window: left pending for a person. */
  | 'abandoned'
  /** The stub is gone (erased) or no longer pending: nothing to do. */
  | 'dropped';

/** One run's summary (counts per outcome and the leads that changed). */
export interface PendingLeadsSummary {
  readonly due: number;
  readonly outcomes: Readonly<Partial<Record<PendingLeadOutcome, number>>>;
  readonly results: ReadonlyArray<{
    readonly provider: string;
    readonly externalId: string;
    readonly leadId: string;
    readonly outcome: PendingLeadOutcome;
    readonly problem?: string;
  }>;
}

/** The pause before attempt `attempts + 1` (after `attempts` failed reads). */
export function pauseAfter(attempts: number): number {
  return Math.min(FIRST_PAUSE_MS * 2 ** Math.max(0, attempts - 1), MAX_PAUSE_MS);
}

/**
 * Reads every due pending lead once (at most {@link PENDING_PER_RUN} per run).
 * @throws the first storage failure after trying the rest, so the relay's run fails and alarms;
 *   each marker stays until its lead is done.
 */
export async function refetchPendingLeads(deps: PendingLeadDeps): Promise<PendingLeadsSummary> {
  const now = (deps.now ?? (() => new Date()))();
  const markers = await deps.store.listPendingLeads(PENDING_PER_RUN);
  const due = markers.filter((m) => m.nextAttemptAt <= now.toISOString());
  const results: Array<PendingLeadsSummary['results'][number]> = [];
  let failure: unknown;
  for (const entry of due) {
    try {
      const { outcome, problem } = await refetchOne(entry, now, deps);
      results.push({
        provider: entry.provider,
        externalId: entry.externalId,
        leadId: entry.leadId,
        outcome,
        ...(problem ? { problem } : {}),
      });
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure) throw failure;
  const outcomes: Partial<Record<PendingLeadOutcome, number>> = {};
  for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  return { due: due.length, outcomes, results };
}

async function refetchOne(
  entry: PendingLead,
  now: Date,
  deps: PendingLeadDeps,
): Promise<{ outcome: PendingLeadOutcome; problem?: string }> {
  const { store } = deps;
  const stub = await store.getLead(entry.leadId);
  if (stub?.status !== 'pending') {
    await store.forgetPendingLead(entry);
    return { outcome: 'dropped' };
  }
  const read = await deps.read(entry);
  if ('problem' in read) return wait(entry, read.problem, now, deps);
  const normalised = normaliseRequest({ fields: read.fields, provider: entry.provider }, deps.config, now);
  if (!normalised.ok) {
    // Reading again gives the same answers: a person completes the lead from the platform.
    await store.forgetPendingLead(entry);
    return {
      outcome: 'unusable',
      problem: normalised.errors.map((e) => `${e.field}: ${e.reason}`).join('; '),
    };
  }
  const dedupeKey = read.isTest ? `test:${normalised.profile.dedupeKey}` : normalised.profile.dedupeKey;
  const holder = await store.claimDedupeKey(dedupeKey, stub.id);
  if (holder !== stub.id) return mergeIntoKnown(stub, holder, entry, read, deps);

  const at = now.toISOString();
  const consent = consentStatement(normalised.consent, deps.config.client.consentText);
  const completed: Lead = {
    ...stub,
    profile: enrichProfile({ ...normalised.profile, dedupeKey }).profile,
    ...(consent ? { consent } : {}),
    isTest: read.isTest === true,
    status: 'new',
    updatedAt: at,
  };
  const outbox: OutboxEntry = { id: `${stub.id}-completed`, at, events: [capturedEvent(completed)] };
  try {
    await store.saveLead(stub, completed, { outbox });
  } catch (error) {
    // Changed since it was read (a person completed it, or it was erased): the next run sees it.
    if (error instanceof LeadChangedError)
      return { outcome: 'waiting', problem: 'the lead changed meanwhile' };
    throw error;
  }
  await store.forgetPendingLead(entry);
  await announce(outbox, {
    publisher: deps.publisher,
    outbox: { clear: (e: Pick<OutboxEntry, 'id' | 'at'>) => store.clearOutbox(e) },
  });
  return { outcome: 'completed' };
}

/**
 * The person already has a lead: their answers arrive there as a resubmission (intake's merge,
 * with an activity id derived from the stub, so a repeat after a crash writes the same activity),
 * then the stub is removed.
 */
async function mergeIntoKnown(
  stub: Lead,
  holder: string,
  entry: PendingLead,
  read: Extract<PlatformRead, { fields: unknown }>,
  deps: PendingLeadDeps,
): Promise<{ outcome: PendingLeadOutcome }> {
  const merged = await intakeLead(
    {
      provider: entry.provider,
      fields: read.fields,
      ...(read.isTest ? { isTest: true } : {}),
      ...(stub.source.formId ? { source: { formId: stub.source.formId } } : {}),
    },
    { ...deps, newId: () => `${stub.id}-merged` },
  );
  try {
    await deps.store.retirePendingLead(stub, merged.leadId ?? holder, entry);
  } catch (error) {
    if (!(error instanceof LeadChangedError || error instanceof DuplicateLeadError)) throw error;
  }
  return { outcome: 'merged' };
}

async function wait(
  entry: PendingLead,
  problem: string,
  now: Date,
  deps: PendingLeadDeps,
): Promise<{ outcome: PendingLeadOutcome; problem: string }> {
  if (now.getTime() - Date.parse(entry.since) >= GIVE_UP_AFTER_MS) {
    await deps.store.forgetPendingLead(entry);
    return { outcome: 'abandoned', problem };
  }
  const attempts = entry.attempts + 1;
  await deps.store.reschedulePendingLead(entry, {
    attempts,
    nextAttemptAt: new Date(now.getTime() + pauseAfter(attempts)).toISOString(),
    lastProblem: problem,
  });
  return { outcome: 'waiting', problem };
}
