import { LeadPipelineError } from '../domain/errors';
import type { LinkedInFormResponse, LinkedInLeadForm } from '../webhooks/linkedin';
import type { MetaGraphLead } from '../webhooks/meta';

/**
 * Ad platforms whose webhooks only name a lead: the lead's answers are fetched from the
 * platform's API. The webhook intake depends on these; `shared/adapters/linkedin-api.ts` and
 * `shared/adapters/meta-graph.ts` implement them over `fetch`.
 */

/** A lead's response and, when its form could be read, the form. */
export interface LinkedInLead {
  readonly response: LinkedInFormResponse;
  readonly form?: LinkedInLeadForm;
}

/** Fetches a lead. Injectable, so tests never reach the network. */
export interface LinkedInLeadFetcher {
  fetchLead(responseId: string, formId: string | undefined, accessToken: string): Promise<LinkedInLead>;
}

/** LinkedIn refused, timed out, or answered something that is not a lead. */
export class LinkedInApiError extends LeadPipelineError {
  readonly code = 'LINKEDIN_API_FAILED';
  constructor(
    message: string,
    readonly status?: number,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

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
