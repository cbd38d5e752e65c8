import { HeldLeadQueue } from './held-lead-queue';
import { LeadActivities } from './lead-activities';
import { LeadErasure } from './lead-erasure';
import { LeadProfiles } from './lead-profiles';
import { LeadQueries } from './lead-queries';
import { composeAggregates } from './lead-table';
import { LeadTasks } from './lead-tasks';
import { PendingLeads } from './pending-leads';
import { SendLedger } from './send-ledger';
import { VisitorEvents } from './visitor-events';

/**
 * Every aggregate of the lead table in one object, for the handlers whose services use several:
 * leads ({@link LeadProfiles}), activities, lists, sends and suppression, the held queue, visitor
 * events, tasks and notes, erasure, and the ad-platform leads stored pending. Each method lives in its aggregate over the one table
 * core (`lead-table.ts`); a handler that needs a single aggregate can build just that one.
 */
export const LeadRepository = composeAggregates([
  LeadProfiles,
  LeadActivities,
  LeadQueries,
  SendLedger,
  HeldLeadQueue,
  VisitorEvents,
  LeadTasks,
  LeadErasure,
  PendingLeads,
]);

/** The composed lead table (see {@link LeadRepository}). */
export type LeadRepository = InstanceType<typeof LeadRepository>;
