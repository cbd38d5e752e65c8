import { DependencyUnavailableError, LeadPipelineError } from '../domain/errors';
import type { SlackMessage, SlackResponse } from './slack-blocks';

/**
 * Posts messages to a Slack incoming webhook.
 *
 * The webhook URL is a credential: it is read at run time from the integrations secret (through
 * the injected `webhookUrl` reader, cached by Powertools Parameters), never from the environment,
 * and never logged. Failures are classified so the caller can decide what a retry is worth:
 *
 * - 429: Slack's `Retry-After` (seconds) is honoured in-process when the wait fits the Lambda's
 *   remaining time; otherwise {@link SlackRateLimitedError} (retryable) lets the platform retry later.
 * - 5xx, timeouts and network errors: retried here with exponential backoff, then
 *   {@link DependencyUnavailableError} (retryable).
 * - any other 4xx (`invalid_blocks`, `no_service`, `channel_is_archived`...): the request itself
 *   is wrong and repeating it cannot help, so {@link SlackRejectedError} (not retryable) is thrown
 *   at once with Slack's error code and what to fix.
 */

/** Remaining execution time, e.g. `context.getRemainingTimeInMillis`. */
export type RemainingTime = () => number;

/** Slack answered 429 and its `Retry-After` does not fit in the time left. Retry later. */
export class SlackRateLimitedError extends LeadPipelineError {
  readonly code = 'SLACK_RATE_LIMITED';
  override readonly retryable = true;
  constructor(readonly retryAfterSeconds: number) {
    super(`Slack rate-limited the webhook; retry after ${retryAfterSeconds} s (more than the time left)`);
  }
}

/** Slack refused the message for a reason a retry cannot fix; the message says what to do. */
export class SlackRejectedError extends LeadPipelineError {
  readonly code = 'SLACK_REJECTED';
  constructor(
    readonly status: number,
    readonly slackError: string,
  ) {
    super(
      `Slack refused the alert (HTTP ${status} ${slackError}): ${SlackRejectedError.advice(status, slackError)}`,
    );
  }

  /** What an operator should fix for a given Slack webhook error. */
  static advice(status: number, slackError: string): string {
    switch (slackError) {
      case 'no_service':
      case 'no_team':
      case 'team_disabled':
      case 'invalid_token':
        return 'the webhook URL is revoked or wrong; create a new incoming webhook and store it as slackWebhookUrl in the integrations secret';
      case 'channel_not_found':
      case 'channel_is_archived':
        return 'the webhook channel no longer exists or is archived; point the webhook at a live channel';
      case 'action_prohibited':
        return "a Slack admin restricted this webhook's channel; ask them to allow the app";
      case 'invalid_payload':
      case 'invalid_blocks':
      case 'invalid_blocks_format':
      case 'too_many_attachments':
        return 'the message does not match Block Kit; this is a bug in the alert builder (see the logged blocks)';
      default:
        return status === 404 || status === 403 || status === 410
          ? 'check the webhook URL stored as slackWebhookUrl in the integrations secret'
          : 'see https://api.slack.com/messaging/webhooks#handling_errors';
    }
  }
}

/** The webhook is configured as something other than an https URL. */
export class SlackWebhookConfigError extends LeadPipelineError {
  readonly code = 'SLACK_WEBHOOK_INVALID';
  constructor() {
    super(
      'slackWebhookUrl in the integrations secret is not an https URL; paste the full incoming-webhook URL',
    );
  }
}

/** Options for {@link SlackWebhook}. */
export interface SlackWebhookOptions {
  /** Injectable for tests. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Injectable for tests. @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Attempts for 5xx and network failures. @default 3 */
  readonly maxAttempts?: number;
  /** Per-request timeout. @default 5000 */
  readonly requestTimeoutMs?: number;
  /** Time kept in reserve after the last Slack call for the rest of the invocation. @default 3000 */
  readonly reserveMs?: number;
  /** First backoff delay; doubles each attempt. @default 250 */
  readonly backoffMs?: number;
}

/** What happened to a post. */
export type SlackPostResult = 'sent' | 'not-configured';

/** Longest Retry-After honoured without asking (Slack uses ~1-60 s). */
const MAX_RETRY_AFTER_SECONDS = 3600;

/** Parses `Retry-After`: delta seconds or an HTTP date; 1 s when missing or unreadable. */
export function parseRetryAfter(header: string | null, now: Date = new Date()): number {
  if (header === null || header.trim() === '') return 1;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Math.min(Number(value), MAX_RETRY_AFTER_SECONDS);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return 1;
  return Math.min(Math.max(0, Math.ceil((at - now.getTime()) / 1000)), MAX_RETRY_AFTER_SECONDS);
}

/** Sends Slack messages through an incoming webhook; see the module notes for error handling. */
export class SlackWebhook {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxAttempts: number;
  private readonly requestTimeoutMs: number;
  private readonly reserveMs: number;
  private readonly backoffMs: number;

  /** @param webhookUrl reads the webhook URL at call time; `''` means not configured. */
  constructor(
    private readonly webhookUrl: () => Promise<string>,
    options: SlackWebhookOptions = {},
  ) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.maxAttempts = options.maxAttempts ?? 3;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.reserveMs = options.reserveMs ?? 3000;
    this.backoffMs = options.backoffMs ?? 250;
  }

  /**
   * Posts one message. Resolves `not-configured` (sending nothing) when the secret has no
   * webhook URL yet.
   * @param remaining the invocation's remaining time, so waits never outlive the Lambda.
   * @throws SlackRateLimitedError, DependencyUnavailableError (retryable) or SlackRejectedError.
   */
  async post(message: SlackMessage, remaining: RemainingTime): Promise<SlackPostResult> {
    const url = (await this.webhookUrl()).trim();
    if (url === '') return 'not-configured';
    if (!/^https:\/\/[^\s/]+\//.test(url)) throw new SlackWebhookConfigError();
    const body = JSON.stringify({ text: message.text, blocks: message.blocks });

    let failures = 0;
    for (;;) {
      const budget = remaining() - this.reserveMs;
      if (budget <= 0)
        throw new DependencyUnavailableError(
          'Slack',
          new Error('no time left in this invocation to call Slack'),
        );
      let response: Response;
      try {
        response = await this.fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body,
          signal: AbortSignal.timeout(Math.min(this.requestTimeoutMs, budget)),
        });
      } catch (error) {
        failures++;
        await this.backoffOrThrow(failures, remaining, networkError(error));
        continue;
      }
      if (response.ok) {
        await drain(response);
        return 'sent';
      }
      const slackError = (await readText(response)) || `http_${response.status}`;
      if (response.status === 429) {
        const waitSeconds = parseRetryAfter(response.headers.get('retry-after'));
        const waitMs = waitSeconds * 1000;
        // Waiting only helps if the retried request still fits before the Lambda times out.
        if (waitMs + this.requestTimeoutMs > remaining() - this.reserveMs)
          throw new SlackRateLimitedError(waitSeconds);
        await this.sleep(waitMs);
        continue;
      }
      if (response.status >= 500) {
        failures++;
        await this.backoffOrThrow(
          failures,
          remaining,
          new Error(`Slack answered HTTP ${response.status} ${slackError}`),
        );
        continue;
      }
      throw new SlackRejectedError(response.status, slackError.slice(0, 100));
    }
  }

  private async backoffOrThrow(failures: number, remaining: RemainingTime, cause: Error): Promise<void> {
    const delay = this.backoffMs * 2 ** (failures - 1);
    if (failures >= this.maxAttempts || delay + this.requestTimeoutMs > remaining() - this.reserveMs)
      throw new DependencyUnavailableError('Slack', cause);
    await this.sleep(delay);
  }
}

/** A network failure without the URL (fetch errors can echo it, and it is a credential). */
function networkError(error: unknown): Error {
  const name = error instanceof Error ? error.name : 'Error';
  const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return new Error(`Slack request failed: ${name}${typeof code === 'string' ? ` (${code})` : ''}`);
}

async function readText(response: Response): Promise<string> {
  try {
    return (await response.text()).trim();
  } catch {
    return '';
  }
}

async function drain(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // nothing to release
  }
}

/** Hosts Slack's `response_url` lives on; a verified payload naming another host is not followed. */
const RESPONSE_URL = /^https:\/\/hooks\.slack(-gov)?\.com\//;

/**
 * Answers a button press through its `response_url`: replaces the alert, or sends the presser an
 * ephemeral reply. Bounded by a short timeout, because Slack wants the interaction answered
 * within 3 seconds and the press was already recorded.
 */
export class SlackResponder {
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  /** @param options.timeoutMs per response. @default 1500 */
  constructor(options: { readonly fetch?: typeof fetch; readonly timeoutMs?: number } = {}) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 1500;
  }

  /** @throws Error when the URL is not Slack's or Slack does not accept the message. */
  async respond(responseUrl: string, message: SlackResponse): Promise<void> {
    if (!RESPONSE_URL.test(responseUrl)) throw new Error('response_url is not a Slack hooks URL');
    let response: Response;
    try {
      response = await this.fetch(responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(message),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw networkError(error);
    }
    const text = await readText(response);
    if (!response.ok)
      throw new Error(`Slack refused the response (HTTP ${response.status} ${text.slice(0, 100)})`);
  }
}
