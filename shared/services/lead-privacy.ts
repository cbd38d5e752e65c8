import { z } from 'zod';
import { type Caller, requireAdmin } from '../domain/access';
import { canonicalEmail, emailDedupeKey, LeadEmailSchema } from '../domain/email';
import { emailHash } from '../domain/tokens';
import { splitPartition } from './lead-queries';
import { clock, type LeadsDeps, parseInput } from './leads';
/** The admin's view of a person: the address in the path and the export of everything held. */

// ------------------------------------------------------------------------------------ privacy

/** The canonical address in a `/admin/people/{email}` path (400 naming `email` when it is not one). */
export function personEmail(raw: string): string {
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // Already decoded (API Gateway decodes path parameters) and contains a literal '%'.
  }
  const email = canonicalEmail(decoded);
  parseInput(z.object({ email: LeadEmailSchema }), { email });
  return email;
}

/** `GET /admin/people/{email}`: everything held about a person, as JSON. */
export async function exportPerson(caller: Caller, rawEmail: string, deps: LeadsDeps) {
  requireAdmin(caller, 'export personal data');
  const email = personEmail(rawEmail);
  const dedupeKey = emailDedupeKey(email);
  const leadId = await deps.store.findLeadIdByDedupeKey(dedupeKey);
  const lead = leadId === undefined ? undefined : await deps.store.getLead(leadId);
  const hash = emailHash(email);
  const suppression = await deps.store.getSuppression(hash);
  const base = {
    email,
    exportedAt: clock(deps)().toISOString(),
    suppression: suppression ? { suppressed: true, ...suppression } : { suppressed: false },
  };
  if (!lead) return { ...base, found: false as const };
  const parts = splitPartition(await deps.store.listLeadPartition(lead.id));
  return {
    ...base,
    found: true as const,
    leadId: lead.id,
    lead,
    activities: parts.activities,
    scoreHistory: parts.scoreHistory,
    notes: parts.notes,
    tasks: parts.tasks,
    sends: parts.sends,
    other: parts.other,
    pointers: {
      dedupeKey: lead.profile.dedupeKey,
      ...(lead.source.externalId !== undefined
        ? { external: { provider: lead.source.provider, id: lead.source.externalId } }
        : {}),
    },
  };
}
