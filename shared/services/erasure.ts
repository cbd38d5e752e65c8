import { randomUUID } from 'node:crypto';
import { type Caller, requireAdmin } from '../domain/access';
import { canonicalEmail, emailDedupeKey } from '../domain/email';
import { isOpenLead } from '../domain/reassignment';
import { emailHash } from '../domain/tokens';
import { pipelineEvent } from '../events/catalogue';
import type { Outbox, OutboxEntry } from '../ports/outbox';
import { announce } from './announce';
import { personEmail } from './lead-privacy';
import type { LeadsPublisher, LeadsStore } from './leads';

/**
 * Erasure of a person, as a job. `DELETE /admin/people/{email}` suppresses the address at once
 * (no email leaves after the request), records the job and publishes `Erasure Requested` with
 * the job id only (the event archive never holds the address); the `erase` function then finds
 * and deletes everything, however long it takes, and the status URL reports the outcome.
 *
 * Every step is idempotent (deletes, suppression, the counter decrement inside the lead's own
 * conditional delete), so a job that fails or times out half-way is simply run again.
 */

/** A stored erasure job. The address is held only while the job runs. */
export interface ErasureRecord {
  readonly id: string;
  readonly status: 'running' | 'completed';
  readonly requestedAt: string;
  /** Who asked (Cognito `sub`), for the audit trail. */
  readonly requestedBy: string;
  /** The address to erase; removed when the job completes. */
  readonly email?: string;
  readonly completedAt?: string;
  readonly result?: ErasureResult;
}

/** What a completed erasure did. */
export interface ErasureResult {
  /** Ids of the erased leads (ids are random and name nobody once the lead is gone). */
  readonly leadIds: readonly string[];
  /** How many addresses of the person were found (the requested one and those on their leads). */
  readonly addresses: number;
  /** Items deleted, by kind. */
  readonly deleted: Readonly<Record<ErasedKind, number>>;
  /** The owners whose open-lead capacity was given back. */
  readonly capacityReturnedTo: readonly string[];
  /** SHA-256 hashes kept on the suppression list (reason `erased`), so no email goes to them again. */
  readonly suppressedHashes: readonly string[];
  /** Items the job read to find them. */
  readonly itemsScanned: number;
  readonly limits: readonly string[];
}

/** Kinds of erased items, by partition prefix. */
export type ErasedKind = 'leads' | 'leadItems' | 'pointers' | 'idempotencyRecords' | 'visitorEvents';

/** Where the job keeps its state and how it reads the whole table. */
export interface ErasureStore {
  /** Records a new job (fails if the id exists) with its outbox entry, in one transaction. */
  createErasure(record: ErasureRecord, expiresAtEpoch: number, outbox: OutboxEntry): Promise<void>;
  getErasure(id: string): Promise<ErasureRecord | undefined>;
  /** Marks the job completed with its result and forgets the address. */
  completeErasure(id: string, completedAt: string, result: ErasureResult): Promise<void>;
  /**
   * Reads every item of the table, page by page (a paginated Scan), calling `visit` for each
   * page. @returns the number of items read.
   */
  scanTable(visit: (items: readonly Record<string, unknown>[]) => Promise<void> | void): Promise<number>;
}

/** Ports of the erasure API and job. */
export interface ErasureDeps {
  readonly erasures: ErasureStore;
  readonly store: Pick<LeadsStore, 'suppress' | 'getLead' | 'deleteItems' | 'deleteLeadAndPointers'>;
  readonly publisher: LeadsPublisher;
  readonly now?: () => Date;
  readonly newId?: () => string;
}

/** Completed jobs (address-free) are kept this long for the audit trail, then expire. */
export const ERASURE_RECORD_DAYS = 90;

/** Path of a job's status, relative to the API URL. */
export const erasureStatusPath = (id: string) => `/admin/erasures/${encodeURIComponent(id)}`;

/**
 * Partitions the job may delete from: a lead's own partition, pointers to it, the functions'
 * idempotency records and anonymous visitor events. Items elsewhere that mention a lead id (a
 * team's round-robin cursor, for example) are configuration state, not the person's data.
 */
const ERASABLE: ReadonlyArray<readonly [string, ErasedKind]> = [
  ['LEAD#', 'leadItems'],
  ['DEDUPE#', 'pointers'],
  ['EXT#', 'pointers'],
  ['HELD', 'pointers'],
  ['IDEMPOTENCY#', 'idempotencyRecords'],
  ['VISITOR#', 'visitorEvents'],
];

/** What erasure cannot reach, stated in every result so the admin can act on it. */
export const ERASURE_LIMITS = [
  'DynamoDB point-in-time recovery keeps restorable copies of the table for 35 days.',
  'The EventBridge archive keeps pipeline events (lead ids, no addresses) for stack.eventArchiveDays; the erasure request event holds only the job id.',
  'CloudWatch logs (functions, API access logs, Step Functions execution data) keep lead ids and lead fields logged by the workflows until stack.logRetentionDays; dead-letter queues keep failed events for 14 days.',
  'X-Ray traces (30 days) hold no responses or outbound URLs, but error messages and annotations remain.',
  'Slack messages and SNS deliveries (email, SMS) already sent to reps stay with Slack and the recipients; delete them there.',
  'SES keeps its own account-level suppression list for bounces and complaints; remove the address there if required.',
  'Anonymous visitor events never linked to the lead expire after tracking.anonymousRetentionDays.',
] as const;

/**
 * `DELETE /admin/people/{email}`: suppresses the address, starts the erasure job and answers at
 * once with its id and status URL (202).
 */
export async function startErasure(
  caller: Caller,
  rawEmail: string,
  deps: ErasureDeps & { readonly outbox: Pick<Outbox, 'clear'> },
) {
  requireAdmin(caller, 'erase personal data');
  const email = personEmail(rawEmail);
  const now = (deps.now ?? (() => new Date()))();
  const at = now.toISOString();
  const id = (deps.newId ?? randomUUID)();
  // First, so that nothing is emailed to the person from the moment of the request.
  await deps.store.suppress(emailHash(email), 'erased', at);
  const expires = Math.floor(now.getTime() / 1000) + ERASURE_RECORD_DAYS * 86_400;
  // The job and its `Erasure Requested` are one write (the outbox): a bus that refuses now leaves
  // the event for the relay, so an accepted request always starts its job.
  const entry: OutboxEntry = {
    id: `erasure-${id}`,
    at,
    events: [pipelineEvent('Erasure Requested', { erasureId: id, occurredAt: at })],
  };
  await deps.erasures.createErasure(
    { id, status: 'running', requestedAt: at, requestedBy: caller.subject, email },
    expires,
    entry,
  );
  await announce(entry, { publisher: deps.publisher, outbox: deps.outbox });
  return { erasureId: id, status: 'running' as const, requestedAt: at, statusUrl: erasureStatusPath(id) };
}

/** `GET /admin/erasures/{id}`: the job's status, never the address. */
export async function erasureStatus(caller: Caller, id: string, deps: Pick<ErasureDeps, 'erasures'>) {
  requireAdmin(caller, 'read erasure jobs');
  const record = await deps.erasures.getErasure(id);
  if (!record) return undefined;
  const { email: _address, ...status } = record;
  return status;
}

/** Case-insensitive address comparison key. */
function addressKey(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || !raw.includes('@')) return undefined;
  return canonicalEmail(raw.trim());
}

/** Is this item a lead profile of the person (their address as its email or in a form field)? */
function leadOfPerson(item: Record<string, unknown>, addresses: ReadonlySet<string>): string[] | undefined {
  if (item.sk !== 'PROFILE' || !String(item.pk).startsWith('LEAD#')) return undefined;
  const profile = (item.profile ?? {}) as {
    email?: unknown;
    extra?: Record<string, unknown>;
    dedupeKey?: unknown;
  };
  const own = addressKey(profile.email);
  const inExtra = Object.values(profile.extra ?? {})
    .map(addressKey)
    .filter((a): a is string => a !== undefined);
  const dedupeKeys = new Set([...addresses].flatMap((a) => [emailDedupeKey(a), `test:${emailDedupeKey(a)}`]));
  const matches =
    (own !== undefined && addresses.has(own)) ||
    inExtra.some((a) => addresses.has(a)) ||
    (typeof profile.dedupeKey === 'string' && dedupeKeys.has(profile.dedupeKey));
  // The lead's own address is one the person used: their other leads are found by it too.
  return matches ? (own !== undefined ? [own] : []) : undefined;
}

/** How many rounds of "new address found → look again" the job makes. */
const MAX_ADDRESS_ROUNDS = 3;

/**
 * The `erase` job. Finds every lead of the person by reading the table (profiles whose email,
 * a form field or dedupe key is one of the person's addresses, including test leads and leads
 * keyed by a provider id), then deletes every item that belongs to them (each lead's partition,
 * dedupe and provider-id pointers, the held-queue entry, idempotency records and visitor events
 * that mention a lead id or an address), then each profile with its owner's capacity, and keeps
 * every address's hash on the suppression list. Safe to run again at any point.
 * @returns the completed record, or `undefined` for an unknown job.
 */
export async function runErasure(
  erasureId: string,
  deps: Pick<ErasureDeps, 'erasures' | 'store' | 'now'>,
): Promise<ErasureRecord | undefined> {
  const record = await deps.erasures.getErasure(erasureId);
  if (!record || record.status === 'completed' || !record.email) return record;
  const now = deps.now ?? (() => new Date());
  const addresses = new Set([canonicalEmail(record.email)]);
  const leadIds = new Set<string>();
  let scanned = 0;

  for (let round = 0; round < MAX_ADDRESS_ROUNDS; round++) {
    const known = addresses.size;
    scanned += await deps.erasures.scanTable((items) => {
      for (const item of items) {
        const found = leadOfPerson(item, addresses);
        if (!found) continue;
        leadIds.add(String(item.pk).slice('LEAD#'.length));
        for (const a of found) addresses.add(a);
      }
    });
    if (addresses.size === known) break;
  }

  const needles = [...leadIds, ...addresses].map((n) => n.toLowerCase());
  const deleted: Record<ErasedKind, number> = {
    leads: 0,
    leadItems: 0,
    pointers: 0,
    idempotencyRecords: 0,
    visitorEvents: 0,
  };
  if (needles.length > 0) {
    scanned += await deps.erasures.scanTable(async (items) => {
      const doomed: Array<{ pk: string; sk: string }> = [];
      for (const item of items) {
        const pk = String(item.pk);
        const kind = ERASABLE.find(([prefix]) => pk.startsWith(prefix))?.[1];
        // Profiles go last, with their pointers and the owner's counter, in one transaction.
        if (!kind || item.sk === 'PROFILE') continue;
        if (kind === 'leadItems') {
          // Only the person's own leads: another lead whose notes quote the address is not theirs.
          if (!leadIds.has(pk.slice('LEAD#'.length))) continue;
        } else {
          const text = JSON.stringify(item).toLowerCase();
          if (!needles.some((n) => text.includes(n))) continue;
        }
        doomed.push({ pk, sk: String(item.sk) });
        deleted[kind]++;
      }
      if (doomed.length > 0) await deps.store.deleteItems(doomed);
    });
  }

  const capacityReturnedTo: string[] = [];
  for (const leadId of leadIds) {
    const lead = await deps.store.getLead(leadId);
    if (!lead) continue;
    // A concurrent write (an SES event adding an activity) fails the job; its retry erases again.
    await deps.store.deleteLeadAndPointers(lead);
    deleted.leads++;
    if (isOpenLead(lead) && lead.owner !== undefined) capacityReturnedTo.push(lead.owner);
  }

  const at = now().toISOString();
  const suppressedHashes = [...addresses].map(emailHash);
  for (const hash of suppressedHashes) await deps.store.suppress(hash, 'erased', at);
  const result: ErasureResult = {
    leadIds: [...leadIds],
    addresses: addresses.size,
    deleted,
    capacityReturnedTo,
    suppressedHashes,
    itemsScanned: scanned,
    limits: [...ERASURE_LIMITS],
  };
  await deps.erasures.completeErasure(erasureId, at, result);
  return { ...record, email: undefined, status: 'completed', completedAt: at, result };
}
