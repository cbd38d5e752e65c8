import { LinkedInApiError, type LinkedInLead, type LinkedInLeadFetcher } from '../ports/lead-sources';
import { LinkedInFormResponseSchema, LinkedInLeadFormSchema } from '../webhooks/linkedin';

export { LinkedInApiError, type LinkedInLead, type LinkedInLeadFetcher } from '../ports/lead-sources';

/**
 * Reads a LinkedIn lead's answers from the Lead Sync API: the form response, then its form (to
 * name the questions). A webhook only names the lead. Every call has a hard timeout: a lead
 * whose answers cannot be read is stored `pending` rather than waited for.
 */

/** Base of LinkedIn's versioned REST API. */
export const LINKEDIN_API_ORIGIN = 'https://api.linkedin.com';

export interface LinkedInApiClientOptions {
  /** `LinkedIn-Version` header, `YYYYMM` (`webhooks.linkedin.apiVersion`). */
  readonly version: string;
  /** Abort each call after this long. @default 3000 */
  readonly timeoutMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** {@link LinkedInLeadFetcher} over `fetch`. */
export class LinkedInApiClient implements LinkedInLeadFetcher {
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: LinkedInApiClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  async fetchLead(
    responseId: string,
    formId: string | undefined,
    accessToken: string,
  ): Promise<LinkedInLead> {
    const response = LinkedInFormResponseSchema.safeParse(
      await this.get(`/rest/leadFormResponses/${encodeURIComponent(responseId)}`, accessToken),
    );
    if (!response.success)
      throw new LinkedInApiError('LinkedIn answered something that is not a lead form response');
    if (formId === undefined) return { response: response.data };
    // Without the form the answers cannot be named; better to say so than to guess.
    const form = LinkedInLeadFormSchema.safeParse(
      await this.get(`/rest/leadForms/${encodeURIComponent(formId)}`, accessToken),
    );
    if (!form.success) throw new LinkedInApiError('LinkedIn answered something that is not a lead form');
    return { response: response.data, form: form.data };
  }

  private async get(path: string, accessToken: string): Promise<unknown> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    let body: unknown;
    try {
      response = await this.fetchImpl(`${LINKEDIN_API_ORIGIN}${path}`, {
        headers: {
          authorization: `Bearer ${accessToken}`,
          'linkedin-version': this.options.version,
          'x-restli-protocol-version': '2.0.0',
          accept: 'application/json',
        },
        signal,
      });
      body = await response.json().catch(() => undefined);
    } catch (error) {
      const timedOut = (error as { name?: string }).name === 'TimeoutError' || signal.aborted;
      throw new LinkedInApiError(
        timedOut
          ? `LinkedIn API did not answer within ${this.timeoutMs} ms`
          : `LinkedIn API unreachable: ${(error as Error).message}`,
        undefined,
        error,
      );
    }
    if (!response.ok) {
      const message = (body as { message?: unknown } | undefined)?.message;
      throw new LinkedInApiError(
        `LinkedIn API answered ${response.status}${typeof message === 'string' ? `: ${message}` : ''}`,
        response.status,
      );
    }
    return body;
  }
}
