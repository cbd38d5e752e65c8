import type { ProviderFacts } from '../domain/enrichment';
import type { LeadProfile } from '../domain/lead';

/** A third-party company lookup (Clearbit-style); `shared/adapters/enrichment-provider.ts` implements it over HTTP. */
export interface EnrichmentProvider {
  /**
   * Company facts for the lead, or `undefined` when there is nothing to look up, the provider
   * knows nothing, or it failed or timed out (logged). Never throws.
   */
  lookup(profile: LeadProfile): Promise<ProviderFacts | undefined>;
}
