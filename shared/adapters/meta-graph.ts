import { LeadPipelineError } from '../domain/errors';
import { appSecretProof, type MetaGraphLead, MetaGraphLeadSchema, metaGraphLeadUrl } from '../webhooks/meta';

/**
 * Reads a Meta lead's answers from the Graph API (`GET /<version>/<leadgen_id>`). A webhook
 * only names the lead; its fields live here. Every call has a hard timeout, because the webhook
 * must answer Meta quickly and a lead whose fields cannot be read is stored as `pending` rather
 * than waited for.
 */

/** Credentials for one call (read from the integrations secret per invocation). */
export interface MetaCredentials {
  readonly accessToken: string;
  /** Adds `appsecret_proof` when set (required by apps with "Require App Secret"). */
  readonly appSecret?: string;
}

/** Fetches a lead's Graph record. Injectable, so tests never reach the network. */
export interface MetaLeadFetcher {
  fetchLead(leadgenId: string, credentials: MetaCredentials): Promise<MetaGraphLead>;
}

/** The Graph API refused, timed out, or answered something that is not a lead. */
export class MetaGraphError extends LeadPipelineError {
  readonly code = 'META_GRAPH_FAILED';
  constructor(
    message: string,
    /** HTTP status, when Meta answered. */
    readonly status?: number,
    /** Graph error code (190: the access token expired or was revoked). */
    readonly graphCode?: number,
    override readonly cause?: unknown,
  ) {
    super(message);
  }

  /**
   * A timeout, an unreachable Graph API, a 5xx or a 429: Meta should deliver again later (the
   * webhook answers 503), rather than the lead being stored without its fields.
   */
  get transient(): boolean {
    return this.status === undefined || this.status >= 500 || this.status === 429;
  }
}

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
