import type { Activity, LeadFilter, LeadIndexScope } from '../domain/lead';
import type { OutboxEntry } from './outbox';

/**
 * The types the lead store's ports share (implemented by the lead-table aggregates in
 * `adapters/`, composed in `lead-repository.ts`): what a lead change may carry in its
 * transaction, a page of results, the routing state as stored.
 */

/** A team's round-robin cursor as stored: an opaque routing value plus a write version. */
export interface StoredCursor {
  readonly value: unknown;
  readonly version: number;
}

/** A held lead waiting in the queue for its next routing attempt (see `queueHeldLead`). */
export interface HeldLeadEntry {
  readonly leadId: string;
  /** ISO time the lead is due to be routed again. */
  readonly until: string;
}

/** A page of query results (`ports/page.ts`). */
import type { Page } from './page';

export type { Page };

/**
 * A caller's request claimed in the lead's own transaction (capture's `Idempotency-Key`, or its
 * body when it sends none): a replay finds the claim and is answered as the first time, with
 * no second write and no second announcement.
 */
export interface RequestClaim {
  /** Hash of the request's idempotency key. */
  readonly key: string;
  /** Hash of the body: the same key with another body is a client bug, refused (422). */
  readonly fingerprint: string;
  /** ISO time the request was received: a replay is answered as of then. */
  readonly receivedAt: string;
  /** Epoch seconds after which the claim no longer counts (and DynamoDB TTL deletes it). */
  readonly expiresAt: number;
}

/** A claimed request with what it did: the lead it created or updated. */
export interface TakenRequest extends RequestClaim {
  readonly leadId: string;
  readonly outcome: 'created' | 'updated';
}

/** Options for the lead store's `saveLead`. */
export interface SaveLeadOptions {
  /** Activities written in the same transaction. */
  readonly activities?: readonly Activity[];
  /**
   * When the owner changes to a rep, refuse the write if it would take that rep past this
   * capacity. Omit for the last-resort default owner, who takes leads even when full.
   */
  readonly capacity?: number;
  /** Advance a team's round-robin cursor in the same transaction (conditional on its version). */
  readonly cursor?: { readonly teamId: string; readonly value: unknown; readonly expectedVersion: number };
  /** Require the lead to have no owner at write time (first assignment). */
  readonly requireUnassigned?: boolean;
  /** A score-history entry written in the same transaction as the lead. */
  readonly scoreHistory?: { readonly at: string; readonly score: unknown };
  /** The events this change must publish, stored in the same transaction (see `ports/outbox.ts`). */
  readonly outbox?: OutboxEntry;
  /**
   * The caller's request, claimed in the same transaction.
   * @throws RequestAlreadyTakenError (from the save) when an unexpired claim has this key.
   */
  readonly request?: TakenRequest;
}

/** A page request of the lead store's `findLeads`. */
export interface LeadQuery {
  readonly scope: LeadIndexScope;
  readonly filter: LeadFilter;
  /** Leads per page, 1..100. */
  readonly limit: number;
  readonly nextToken?: string;
}
