import { enrichProfile } from '../domain/enrichment';
import { LeadChangedError } from '../domain/errors';
import type { Lead } from '../domain/lead';
import { type DetailType, type PipelineEvent, pipelineEvent } from '../events/catalogue';
import type { EnrichmentProvider } from '../ports/enrichment';

/**
 * Third-party enrichment use case: look the lead's company up (the optional provider, failures
 * ignored), fill the gaps in its profile, save it, and announce `Lead Enriched` so it is scored
 * again. The built-in enrichment already ran at intake, before the lead was stored and scored;
 * this runs beside scoring (not in front of it), so a slow provider never delays the rep.
 */

/** The storage operations enrichment needs (implemented by `LeadRepository`). */
export interface EnrichmentStore {
  getLead(leadId: string): Promise<Lead | undefined>;
  saveLead(previous: Lead, next: Lead): Promise<Lead>;
}

/** Dependencies of {@link enrichLead}. */
export interface EnrichLeadDeps {
  readonly store: EnrichmentStore;
  readonly provider: EnrichmentProvider;
  readonly now: Date;
  /** Read-modify-write attempts when the lead changes concurrently. @default 5 */
  readonly maxAttempts?: number;
}

/** What {@link enrichLead} did, and the events to publish. */
export type EnrichLeadResult =
  | {
      readonly outcome: 'enriched' | 'unchanged';
      readonly changed: string[];
      readonly providerUsed: boolean;
      readonly events: PipelineEvent<DetailType>[];
    }
  /** The lead no longer exists (erased): nothing to do. */
  | { readonly outcome: 'missing'; readonly events: PipelineEvent<DetailType>[] };

/**
 * Enriches a lead and returns the `Lead Enriched` event to publish when the profile changed
 * (the re-score it triggers). Idempotent: run again, it computes the same values and saves
 * nothing; a redelivery after a save whose event was lost finds nothing to change, which only
 * skips a re-score (the lead was scored on capture already, and its next activity re-scores it).
 * @throws LeadChangedError when the lead kept changing for `maxAttempts` reads.
 * @throws DependencyUnavailableError when DynamoDB is unavailable (retry later).
 */
export async function enrichLead(leadId: string, deps: EnrichLeadDeps): Promise<EnrichLeadResult> {
  const { store, provider, now } = deps;
  const maxAttempts = deps.maxAttempts ?? 5;
  let lead = await store.getLead(leadId);
  if (!lead) return { outcome: 'missing', events: [] };

  // Looked up once, outside the retry loop: the provider is slow, may be billed per call, and
  // a concurrent change to the lead does not change what it knows about the company.
  const facts = await provider.lookup(lead.profile);

  for (let attempt = 1; ; attempt++) {
    const { profile, changed } = enrichProfile(lead.profile, facts);
    if (changed.length > 0) {
      try {
        await store.saveLead(lead, { ...lead, profile, updatedAt: now.toISOString() });
      } catch (error) {
        if (!(error instanceof LeadChangedError) || attempt >= maxAttempts) throw error;
        const fresh = await store.getLead(leadId);
        if (!fresh) return { outcome: 'missing', events: [] };
        lead = fresh;
        continue;
      }
    }
    return {
      outcome: changed.length > 0 ? 'enriched' : 'unchanged',
      changed,
      providerUsed: facts !== undefined,
      events:
        changed.length === 0
          ? []
          : [
              pipelineEvent('Lead Enriched', {
                leadId,
                occurredAt: now.toISOString(),
                isTest: lead.isTest,
                fields: changed,
                providerUsed: facts !== undefined,
              }),
            ],
    };
  }
}
