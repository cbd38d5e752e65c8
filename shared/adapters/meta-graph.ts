import { type MetaCredentials, MetaGraphError, type MetaLeadFetcher } from '../ports/lead-sources';
import { appSecretProof, type MetaGraphLead, MetaGraphLeadSchema, metaGraphLeadUrl } from '../webhooks/meta';

export { type MetaCredentials, MetaGraphError, type MetaLeadFetcher } from '../ports/lead-sources';

/**
 * Reads a Meta lead's answers from the Graph API (`GET /<version>/<leadgen_id>`). A webhook
 * only names the lead; its fields live here. Every call has a hard timeout, because the webhook
 * must answer Meta quickly and a lead whose fields cannot be read is stored as `pending` rather
 * than waited for.
 */

export interface MetaGraphClientOptions {
  /** Graph API version, e.g. `v21.0` (`webhooks.meta.graphApiVersion`). */
  readonly version: string;
  /** Abort the call after this long. @default 3000 */
  readonly timeoutMs?: number;
  /** `fetch` implementation (tests inject one). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** {@link MetaLeadFetcher} over `fetch`, with `AbortSignal.timeout`. */
export class MetaGraphClient implements MetaLeadFetcher {
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: MetaGraphClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  async fetchLead(leadgenId: string, credentials: MetaCredentials): Promise<MetaGraphLead> {
    const proof = credentials.appSecret
      ? appSecretProof(credentials.accessToken, credentials.appSecret)
      : undefined;
    const url = metaGraphLeadUrl(this.options.version, leadgenId, proof);
    // One signal covers the request and reading the body.
    const signal = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    let body: unknown;
    try {
      response = await this.fetchImpl(url, {
        headers: { authorization: `Bearer ${credentials.accessToken}`, accept: 'application/json' },
        signal,
      });
      body = await response.json().catch(() => undefined);
    } catch (error) {
      const timedOut = (error as { name?: string }).name === 'TimeoutError' || signal.aborted;
      throw new MetaGraphError(
        timedOut
          ? `Graph API did not answer within ${this.timeoutMs} ms`
          : `Graph API unreachable: ${(error as Error).message}`,
        undefined,
        undefined,
        error,
      );
    }
    if (!response.ok) {
      const graphError = (body as { error?: { message?: unknown; code?: unknown } } | undefined)?.error;
      const code = typeof graphError?.code === 'number' ? graphError.code : undefined;
      const detail = typeof graphError?.message === 'string' ? `: ${graphError.message}` : '';
      throw new MetaGraphError(`Graph API answered ${response.status}${detail}`, response.status, code);
    }
    const parsed = MetaGraphLeadSchema.safeParse(body);
    if (!parsed.success)
      throw new MetaGraphError('Graph API answered something that is not a lead', response.status);
    return parsed.data;
  }
}
