import { EventPublisher } from '../../shared/adapters/event-publisher';
import { SecretsManagerIntegrations } from '../../shared/adapters/integrations-secret';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { SchedulerSlaClock } from '../../shared/adapters/sla-ladder';
import { SlackResponder } from '../../shared/adapters/slack';
import { type SlackResponse, slackResponse } from '../../shared/adapters/slack-blocks';
import { SlackRequestLog } from '../../shared/adapters/slack-requests';
import { clientConfig } from '../../shared/config/runtime';
import { env } from '../../shared/contracts/function-env';
import { invalid, json, rawBody } from '../../shared/http/api';
import { httpRoute } from '../../shared/http/middleware';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger } from '../../shared/runtime/observability';
import { handleSlackAction, type SlackActionsDeps } from '../../shared/services/slack-actions';

/**
 * `POST /slack/actions`: the Slack app's interactivity request URL, pressed from the alert's
 * buttons. Public (Slack cannot present a Cognito token) and authenticated by Slack's signing
 * secret instead; see `shared/services/slack-actions.ts`. Answers 200 with an empty body once
 * the press is handled (Slack wants it within 3 seconds; the message itself is updated through
 * `response_url`), 401 for an unsigned, stale or replayed request, 400 for a malformed one.
 */

/** Slack interaction payloads are small; a message's blocks fit well within this. */
const MAX_BODY_BYTES = 64 * 1024;

/** The use case's dependencies, with a responder that posts Slack messages as they are. */
export type SlackActionsHandlerDeps = Omit<SlackActionsDeps, 'responder'> & {
  readonly responder: { respond(responseUrl: string, message: SlackResponse): Promise<void> };
};

export function createHandler(handlerDeps: SlackActionsHandlerDeps) {
  // The use case says what to answer; Slack's Block Kit for it is rendered here, at the edge.
  const { responder } = handlerDeps;
  const deps: SlackActionsDeps = {
    ...handlerDeps,
    responder: { respond: (responseUrl, reply) => responder.respond(responseUrl, slackResponse(reply)) },
  };
  return httpRoute(async (event) => {
    // The signature covers the raw bytes, so the body is read as sent, not parsed.
    const result = await handleSlackAction(
      {
        body: rawBody(event, MAX_BODY_BYTES),
        timestamp: event.headers['x-slack-request-timestamp'],
        signature: event.headers['x-slack-signature'],
      },
      deps,
    );
    switch (result.status) {
      case 401:
        logger.warn('Slack request refused', { refused: result.refused });
        return json(401, {
          error: 'SLACK_SIGNATURE_INVALID',
          message:
            result.refused === 'not-configured'
              ? 'The Slack signing secret is not configured (slackSigningSecret in the integration secret)'
              : `The request is not signed by Slack (${result.refused})`,
        });
      case 400:
        return invalid([{ field: result.field, reason: result.reason }]);
      default:
        logger.info('Slack action', { ...result });
        return { statusCode: 200, body: '' };
    }
  });
}

/** Adapters from the environment, built once per function instance (on first use). */
function defaultDeps(): SlackActionsHandlerDeps {
  const secrets = SecretsManagerIntegrations.fromEnvironment();
  const table = env.tableName;
  return {
    leads: {
      store: new LeadRepository(table),
      publisher: new EventPublisher(env.eventBusName),
      sla: new SchedulerSlaClock(env.slaScheduleGroup, clientConfig().sla.ladder.length),
      config: clientConfig(),
      warn: (message, details) => logger.warn(message, details),
    },
    signingSecret: async () => (await secrets.read()).slackSigningSecret,
    requests: new SlackRequestLog(table),
    responder: new SlackResponder(),
    warn: (message, details) => logger.warn(message, details),
  };
}

export const handler = lazyHandler(() => createHandler(defaultDeps()));
