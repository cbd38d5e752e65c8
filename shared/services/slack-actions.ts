import { LeadStateConflictError } from '../domain/access';
import { LeadNotFoundError, LeadPipelineError, NotAllowedError } from '../domain/errors';
import {
  type ActionReply,
  BlockActionsSchema,
  repForSlackUser,
  type SignatureProblem,
  SLACK_ACTIONS,
  SLACK_TIMESTAMP_TOLERANCE_SECONDS,
  slackCaller,
  verifySlackSignature,
} from '../domain/slack-actions';
import { markContacted } from './lead-commands';
import type { LeadsDeps } from './leads';

/**
 * The Slack interactivity endpoint's use case: a rep presses "Mark contacted" on an alert. The
 * request must carry Slack's signature (checked before anything is read), must not be a replay,
 * and must come from a Slack member the client file maps to a rep who may work the lead (its
 * owner, or a manager of its team). Contact goes through the console's own command
 * (`markContacted`): the SLA stops at once, and a second press records nothing twice. The alert
 * is then replaced (via `response_url`) by one saying who made contact and how fast; a refusal
 * is an ephemeral reply only the presser sees.
 */

export interface SlackActionsDeps {
  /** The leads API's dependencies: the press runs the same command as the console. */
  readonly leads: LeadsDeps;
  /** The Slack app's signing secret; `''` means not configured (every request is refused). */
  readonly signingSecret: () => Promise<string>;
  readonly requests: { claim(signature: string, expiresAtEpoch: number): Promise<boolean> };
  /** Answers the press through its `response_url`, rendered for Slack. */
  readonly responder: { respond(responseUrl: string, reply: ActionReply): Promise<void> };
  readonly now?: () => Date;
  readonly warn?: (message: string, details: Record<string, unknown>) => void;
}

/** A request as received: the raw body (signed byte for byte) and Slack's two headers. */
export interface SlackRequest {
  readonly body: string;
  readonly timestamp?: string;
  readonly signature?: string;
}

/** What the endpoint answers, and what happened (for the log and tests). */
export type SlackActionResult =
  | { readonly status: 401; readonly refused: SignatureProblem | 'replayed' | 'not-configured' }
  | { readonly status: 400; readonly field: string; readonly reason: string }
  | {
      readonly status: 200;
      readonly outcome: 'contacted' | 'already-contacted' | 'refused' | 'ignored';
      readonly leadId?: string;
      readonly repId?: string;
      readonly reason?: string;
    };

/** Handles one interactivity request. Never throws for a refusal; Slack only needs the 200. */
export async function handleSlackAction(
  request: SlackRequest,
  deps: SlackActionsDeps,
): Promise<SlackActionResult> {
  const now = (deps.now ?? (() => new Date()))();
  const secret = await deps.signingSecret();
  if (secret === '') return { status: 401, refused: 'not-configured' };
  const problem = verifySlackSignature({ signingSecret: secret, ...request, now });
  if (problem) return { status: 401, refused: problem };
  const expires = Math.floor(now.getTime() / 1000) + 2 * SLACK_TIMESTAMP_TOLERANCE_SECONDS;
  if (!(await deps.requests.claim(request.signature ?? '', expires)))
    return { status: 401, refused: 'replayed' };

  const raw = new URLSearchParams(request.body).get('payload');
  if (raw === null) return { status: 400, field: 'payload', reason: 'missing (a form field holding JSON)' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { status: 400, field: 'payload', reason: 'not JSON' };
  }
  const parsed = BlockActionsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      status: 400,
      field: ['payload', ...(issue?.path ?? []).map(String)].join('.'),
      reason: issue?.message ?? 'invalid',
    };
  }
  const payload = parsed.data;
  const action = payload.actions[0];
  // "Open" is a link button: Slack opens the URL itself and only tells us it was pressed.
  if (action?.action_id !== SLACK_ACTIONS.contacted || !action.value)
    return { status: 200, outcome: 'ignored', reason: `action ${action?.action_id ?? '(none)'}` };
  const leadId = action.value;
  const reply = async (message: ActionReply) => {
    if (!payload.response_url) return;
    try {
      await deps.responder.respond(payload.response_url, message);
    } catch (error) {
      deps.warn?.('Could not update the Slack message; the action itself was handled', {
        leadId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };

  const rep = repForSlackUser(deps.leads.config, payload.user.id);
  if (!rep) {
    await reply({
      kind: 'refused',
      text: 'Your Slack account is not linked to a rep of this pipeline, so I cannot record the contact. Ask an admin to add your Slack member id as `slackUserId` in the client file, or use the console.',
    });
    return { status: 200, outcome: 'refused', leadId, reason: 'unknown Slack user' };
  }
  try {
    const result = await markContacted(slackCaller(rep, deps.leads.config), leadId, deps.leads);
    await reply({
      kind: 'contacted',
      original: payload.message,
      slackUserId: payload.user.id,
      secondsToFirstTouch: result.secondsToFirstTouch,
      already: result.alreadyContacted,
    });
    return {
      status: 200,
      outcome: result.alreadyContacted ? 'already-contacted' : 'contacted',
      leadId,
      repId: rep.id,
    };
  } catch (error) {
    const refusal =
      error instanceof LeadNotFoundError || error instanceof NotAllowedError
        ? "Only the lead's owner or a manager of its team can mark it contacted."
        : error instanceof LeadStateConflictError
          ? error.message
          : error instanceof LeadPipelineError && error.retryable
            ? 'The contact could not be recorded just now; press again in a moment, or use the console.'
            : undefined;
    if (refusal === undefined) throw error;
    await reply({ kind: 'refused', text: refusal });
    return { status: 200, outcome: 'refused', leadId, repId: rep.id, reason: refusal };
  }
}
