import type { Lead } from '../domain/lead';

/** The ad platforms whose leads can be stored `pending` and fetched again later. */
export type PendingLeadProvider = 'meta' | 'linkedin';

/**
 * An ad-platform lead stored `pending` (no access token yet, the platform refused the read, or
 * the platform was down when the relay last tried): the relay fetches its answers again until
 * they can be read, with a growing pause between attempts. It holds provider ids only, no
 * personal data, so erasure does not need to find it: a marker whose lead is gone is dropped.
 */
export interface PendingLead {
  readonly provider: PendingLeadProvider;
  /** The provider's id of the lead (Meta's leadgen id, LinkedIn's response id). */
  readonly externalId: string;
  /** The `pending` lead stored for it. */
  readonly leadId: string;
  /** What the provider's read needs: the Meta leadgen change, the LinkedIn notification. */
  readonly reference: Readonly<Record<string, unknown>>;
  /** When the lead was first stored pending (ISO); the relay gives up after a retention window. */
  readonly since: string;
  /** Reads tried by the relay so far. */
  readonly attempts: number;
  /** When the relay may try again (ISO). */
  readonly nextAttemptAt: string;
  /** Why the last read did not give the lead's answers. */
  readonly lastProblem?: string;
}

/** The pending-lead markers and the two ways a pending lead ends. */
export interface PendingLeadStore {
  /** Stores the marker unless one exists for the same provider id (a redelivery). */
  rememberPendingLead(entry: PendingLead): Promise<void>;
  /** Markers, oldest provider ids first (the caller picks the due ones). */
  listPendingLeads(limit: number): Promise<PendingLead[]>;
  /**
   * Records a failed attempt, if nobody recorded one since `entry` was read.
   * @returns false when another run changed or removed the marker meanwhile.
   */
  reschedulePendingLead(
    entry: PendingLead,
    next: Pick<PendingLead, 'attempts' | 'nextAttemptAt' | 'lastProblem'>,
  ): Promise<boolean>;
  /** Drops a marker (its lead is gone, complete, or can never be read). */
  forgetPendingLead(entry: Pick<PendingLead, 'provider' | 'externalId'>): Promise<void>;
  /**
   * Claims a lead's dedupe key for a pending lead completed with its answers (no-op when it
   * already holds it). @returns the lead holding the key: `leadId`, or a known person's lead.
   */
  claimDedupeKey(dedupeKey: string, leadId: string): Promise<string>;
  /**
   * Removes a pending lead whose person turned out to be known, after its answers were merged
   * into `intoLeadId`: the stub, its `captured` activity and provisional dedupe claim go, its
   * provider id points at `intoLeadId`, and the marker goes, in one transaction.
   * @throws LeadChangedError when the stub changed or is gone.
   */
  retirePendingLead(stub: Lead, intoLeadId: string, entry: PendingLead): Promise<void>;
}
