import { z } from 'zod';
import type { ClientConfig } from '../config/schema';
import { type ProviderFacts, providerFacts } from '../domain/enrichment';
import type { LeadProfile } from '../domain/lead';
import type { EnrichmentProvider } from '../ports/enrichment';
import type { IntegrationsSecretReader } from '../ports/integrations-secret';
import { logger } from '../runtime/observability';

export type { EnrichmentProvider } from '../ports/enrichment';

/**
 * The optional third-party enrichment provider (a Clearbit-style company lookup over HTTP).
 *
 * Enrichment is a nice-to-have: a lead must reach a rep whether or not the provider answers.
 * So every failure here (no key, network error, timeout, 4xx/5xx, a body that is not what we
 * expect) is logged and turned into "no facts"; nothing is thrown and nothing is retried.
 */
/** The provider used when `enrichment.provider` is absent or disabled. */
export const NO_ENRICHMENT_PROVIDER: EnrichmentProvider = { lookup: async () => undefined };

/**
 * The response fields we read; everything else is ignored. Each field is read on its own
 * (`catch`), so one odd field (a size given as an object) does not discard the others.
 */
const ProviderResponseSchema = z.object({
  company: z.string().optional().catch(undefined),
  companySize: z.union([z.number(), z.string()]).optional().catch(undefined),
  industry: z.string().optional().catch(undefined),
  country: z.string().optional().catch(undefined),
});

/** Larger bodies are not a company record; reading them would only cost memory. */
const MAX_RESPONSE_BYTES = 256 * 1024;

type Log = Pick<typeof logger, 'warn' | 'info'>;

/** Options of {@link HttpEnrichmentProvider}. */
export interface HttpEnrichmentProviderOptions {
  /** URL with `{domain}` (the company domain) and/or `{email}` placeholders. */
  readonly urlTemplate: string;
  /** The whole call (connect, headers and body) is aborted after this. */
  readonly timeoutMs: number;
  /** Source of `enrichmentApiKey`, sent as `Authorization: Bearer <key>` when not empty. */
  readonly secrets: IntegrationsSecretReader;
  readonly fetch?: typeof fetch;
  readonly log?: Log;
}

/** {@link EnrichmentProvider} over HTTP GET; see {@link HttpEnrichmentProviderOptions}. */
export class HttpEnrichmentProvider implements EnrichmentProvider {
  private readonly fetch: typeof fetch;
  private readonly log: Log;

  constructor(private readonly options: HttpEnrichmentProviderOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.log = options.log ?? logger;
  }

  async lookup(profile: LeadProfile): Promise<ProviderFacts | undefined> {
    const url = lookupUrl(this.options.urlTemplate, profile);
    if (url === undefined) return undefined;
    // The template, not the URL: the URL may carry the lead's email (personal data) into logs.
    const where = { enrichmentUrlTemplate: this.options.urlTemplate };

    let apiKey: string;
    try {
      apiKey = (await this.options.secrets.read()).enrichmentApiKey;
    } catch (error) {
      this.log.warn('Enrichment skipped: the integrations secret could not be read', { ...where, error });
      return undefined;
    }

    let response: Response;
    let body: string;
    try {
      response = await this.fetch(url, {
        method: 'GET',
        headers: { accept: 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (response.status === 404) {
        this.log.info('Enrichment provider knows nothing about this lead', where);
        return undefined;
      }
      if (!response.ok) {
        this.log.warn('Enrichment provider failed; continuing without it', {
          ...where,
          status: response.status,
        });
        return undefined;
      }
      body = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      this.log.warn(
        timedOut
          ? `Enrichment provider timed out after ${this.options.timeoutMs} ms; continuing without it`
          : 'Enrichment provider unreachable; continuing without it',
        { ...where, error },
      );
      return undefined;
    }

    if (body.length > MAX_RESPONSE_BYTES) {
      this.log.warn('Enrichment response too large; ignored', { ...where, length: body.length });
      return undefined;
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      this.log.warn('Enrichment response is not JSON; ignored', where);
      return undefined;
    }
    const parsed = ProviderResponseSchema.safeParse(json);
    if (!parsed.success) {
      this.log.warn('Enrichment response is not an object; ignored', where);
      return undefined;
    }
    return providerFacts(parsed.data);
  }
}

/**
 * The provider for a client's `enrichment` settings: {@link NO_ENRICHMENT_PROVIDER} unless a
 * provider is configured AND enabled. `secrets` is only called when one is.
 */
export function enrichmentProviderFor(
  settings: ClientConfig['enrichment'],
  secrets: () => IntegrationsSecretReader,
  options: Pick<HttpEnrichmentProviderOptions, 'fetch' | 'log'> = {},
): EnrichmentProvider {
  const provider = settings.provider;
  if (!provider?.enabled) return NO_ENRICHMENT_PROVIDER;
  return new HttpEnrichmentProvider({
    urlTemplate: provider.urlTemplate,
    timeoutMs: provider.timeoutMs,
    secrets: secrets(),
    ...options,
  });
}

/**
 * The lookup URL, or `undefined` when the template needs a value the lead does not have (no
 * company domain: free-mail leads are not looked up by domain).
 */
export function lookupUrl(
  template: string,
  profile: Pick<LeadProfile, 'companyDomain' | 'email'>,
): string | undefined {
  const values: Record<string, string | undefined> = {
    domain: profile.companyDomain,
    email: profile.email,
  };
  let missing = false;
  const url = template.replace(/\{(domain|email)\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined || value === '') {
      missing = true;
      return '';
    }
    return encodeURIComponent(value);
  });
  return missing ? undefined : url;
}
