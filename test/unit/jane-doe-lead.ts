import { type Lead, LeadSchema } from '../../shared/domain/lead';

/**
 * The lead both alert test files talk about: Jane Doe, VP Sales at Acme, an assigned SQL from a
 * Google Ads click, owned by liam (EMEA) since 14:50 UTC on 24 November 2025.
 */
export function janeDoeLead(
  overrides: Record<string, unknown> = {},
  profile: Record<string, unknown> = {},
): Lead {
  return LeadSchema.parse({
    id: 'lead-1',
    createdAt: '2025-11-24T14:40:00.000Z',
    updatedAt: '2025-11-24T14:50:00.000Z',
    profile: {
      dedupeKey: 'jane@acme.example',
      email: 'jane@acme.example',
      firstName: 'Jane',
      lastName: 'Doe',
      jobTitle: 'VP Sales',
      company: 'Acme',
      ...profile,
    },
    source: { channel: 'paid_search', provider: 'google_ads', utm: { campaign: 'spring-promo' } },
    status: 'assigned',
    stage: 'SQL',
    priority: 'high',
    owner: 'liam',
    team: 'emea',
    assignedAt: '2025-11-24T14:50:00.000Z',
    version: 2,
    ...overrides,
  });
}
