import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { DynamoAlertLedger } from '../../shared/adapters/alert-ledger';
import { type Alert, buildAlert } from '../../shared/adapters/alert-messages';
import { AlertTopic } from '../../shared/adapters/alert-topic';
import { SecretsManagerIntegrations } from '../../shared/adapters/integrations-secret';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import {
  type RemainingTime,
  SlackRateLimitedError,
  SlackRejectedError,
  SlackWebhook,
  type SlackWebhookOptions,
} from '../../shared/adapters/slack';
import { EVENT_IDEMPOTENCY_TTL_SECONDS } from '../../shared/config/retention';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { env, requireEnv } from '../../shared/contracts/function-env';
import { integrationSecretEnv } from '../../shared/contracts/integration-secrets';
import { ALERT_EVENT_TYPES, type AlertEvent, type AlertLinks } from '../../shared/domain/alerts';
import { LeadPipelineError } from '../../shared/domain/errors';
import type { Lead } from '../../shared/domain/lead';
import type { AlertChannel, AlertLedger } from '../../shared/ports/alert-ledger';
import type { IntegrationsSecretReader } from '../../shared/ports/integrations-secret';
import { type ConsumerLogLine, eventConsumer } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger, metrics } from '../../shared/runtime/observability';

/**
 * Alerts reps and managers on Slack and SNS when a lead is assigned, escalated, goes unworked or
 * a deal goes stale (EventBridge rule `alert`, `isTest: false` in the pattern).
 *
 * Exactly once per alert and channel: EventBridge may deliver an event twice, Lambda retries
 * failed async invocations and routing may re-publish an assignment, and neither a Slack post nor
 * an SNS publish can be made conditional, so the alert is claimed first with one conditional
 * write keyed by the effect ({@link alertKey}: the assignment, else the event id; see
 * `ports/alert-ledger.ts`). A redelivery finds the claim and sends nothing; when one channel
 * failed (say Slack rate-limited us) the claim is released with the channels that went out, and
 * the retry sends only the rest. The claim is leased for the rest of the invocation: a process
 * that dies between the claim and the send (a timeout, a crash) never completes it, and a retry
 * after the lease takes the alert over, so no alert is lost; a success completes the claim, so no
 * later delivery sends it again.
 *
 * Failures: retryable ones (Slack 429 beyond the time left, Slack 5xx/network after backoff, SNS
 * throttling) are thrown so Lambda's async retries (two, minutes apart) try again, then the
 * function's DLQ keeps the event. A Slack rejection (404 revoked webhook, 400 invalid_blocks...)
 * cannot be fixed by retrying but is still thrown, after the other channel was delivered and with
 * an actionable error logged: the event lands in the DLQ after the two retries (each a single cheap
 * request), ready to be redriven once the webhook is fixed, and the released claim keeps the
 * SNS side from repeating on redrive.
 */

/** How long an alert's claim is remembered: covers retries and DLQ redrives (see `retention.ts`). */
export const IDEMPOTENCY_TTL_SECONDS = EVENT_IDEMPOTENCY_TTL_SECONDS;

/** Added to the invocation's remaining time for an alert's claim lease: clocks and retries are not instant. */
const CLAIM_LEASE_MARGIN_MS = 5_000;

/** Everything the handler needs; injectable in tests. */
export interface AlertDeps {
  readonly config: ClientConfig;
  readonly leads: Pick<LeadRepository, 'getLead'>;
  readonly slack: Pick<SlackWebhook, 'post'>;
  readonly topic: Pick<AlertTopic, 'publish'>;
  /** One claim per alert (see `ports/alert-ledger.ts`). */
  readonly ledger: AlertLedger;
  /** Where the alert's links point (the console). @default - no console link */
  readonly links?: AlertLinks;
}

/** What a channel did with an alert. */
export type ChannelOutcome = 'sent' | 'disabled' | 'not-configured' | 'failed';

/** The handler's result, for logs and tests. */
export type AlertResult =
  | {
      readonly eventId: string;
      readonly eventType: AlertEvent['type'];
      readonly leadId: string;
      readonly outcome: 'skipped';
      readonly reason: string;
    }
  | {
      readonly eventId: string;
      readonly eventType: AlertEvent['type'];
      readonly leadId: string;
      readonly outcome: 'alerted';
      readonly recipientId: string;
      readonly slack: ChannelOutcome;
      readonly sns: ChannelOutcome;
    };

/**
 * What makes an alert the same alert: the effect, not the EventBridge event id. Routing
 * re-publishes a stored `Lead Assigned` when a redelivery cannot tell whether its first publish
 * reached the bus (a new event id, the same assignment), and a retried SLA task re-publishes its
 * step's events from the lead's record (same times), so an assignment is keyed by the lead and
 * its `assignedAt`, an escalation by its ladder step and time, an unworked verdict by its time.
 * The other alert events are published once by their producers' own guards (the stale-deal
 * marker, the overdue sweep), so their event id identifies them.
 */
export function alertKey(id: string, event: AlertEvent): string {
  switch (event.type) {
    case 'Lead Assigned':
      return `assigned#${event.detail.leadId}#${event.detail.assignedAt}`;
    case 'Lead Escalated':
      return `escalated#${event.detail.leadId}#${event.detail.ladderStep}#${event.detail.occurredAt}`;
    case 'Lead Unworked':
      return `unworked#${event.detail.leadId}#${event.detail.occurredAt}`;
    default:
      return id;
  }
}

/** Builds the handler: one alert per alertable event, claimed before it is sent. */
export function createHandler(deps: AlertDeps) {
  return eventConsumer({
    types: ALERT_EVENT_TYPES,
    decide: (received, context) => sendAlert(deps, received.id, received as AlertReceived, context),
    describe: (result): ConsumerLogLine =>
      result.outcome === 'skipped'
        ? { message: 'No alert sent', keys: { eventType: result.eventType, reason: result.reason } }
        : {
            message: 'Alert sent',
            keys: {
              eventType: result.eventType,
              recipientId: result.recipientId,
              slack: result.slack,
              sns: result.sns,
            },
          },
  });
}

/** A received alertable event: its detail-type and detail, as {@link AlertEvent} pairs them. */
type AlertReceived = { readonly detailType: AlertEvent['type']; readonly detail: AlertEvent['detail'] };

/** Claims the alert, sends it on each enabled channel, and records what went out. */
async function sendAlert(
  d: AlertDeps,
  id: string,
  received: AlertReceived,
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
): Promise<AlertResult> {
  const remaining: RemainingTime = () => context?.getRemainingTimeInMillis() ?? 30_000;
  const alertEvent = { type: received.detailType, detail: received.detail } as AlertEvent;
  const base = { eventId: id, eventType: alertEvent.type, leadId: alertEvent.detail.leadId };
  const skip = (reason: string): AlertResult => ({ ...base, outcome: 'skipped', reason });

  if (alertEvent.detail.isTest) return skip('test lead: never alerted');
  const { slack: slackConfig, sns: snsConfig } = d.config.alerts;
  if (!slackConfig.enabled && !snsConfig.enabled) return skip('Slack and SNS alerts are both disabled');

  const lead: Lead | undefined = await d.leads.getLead(alertEvent.detail.leadId);
  if (!lead) return skip('the lead no longer exists (erased?)');
  const plan = buildAlert(alertEvent, lead, d.config, d.links);
  if (!plan.send) return skip(plan.reason);
  const alert: Alert = plan.alert;

  // One conditional write per alert; a redelivery, concurrent or late, finds the claim.
  const key = alertKey(id, alertEvent);
  // Leased for the rest of this invocation (plus a margin): if it dies before sending, a retry
  // after that takes the alert over instead of finding it claimed forever.
  const claim = await d.ledger.claim(key, remaining() + CLAIM_LEASE_MARGIN_MS);
  if (!claim) return skip('already alerted by an earlier delivery of this alert');
  const delivered = new Set<AlertChannel>(claim.delivered);

  // The channels are independent, so they are sent at once: the Slack alert does not wait for
  // the SNS publish. Each is skipped if an earlier delivery of this alert already sent it.
  const [snsSent, slackSent] = await Promise.all([
    (async (): Promise<{ outcome: ChannelOutcome; error?: unknown }> => {
      if (!snsConfig.enabled) return { outcome: 'disabled' };
      if (delivered.has('sns')) return { outcome: 'sent' };
      try {
        await d.topic.publish(alert.topic);
        delivered.add('sns');
        metrics.addMetric('AlertsPublished', MetricUnit.Count, 1);
        return { outcome: 'sent' };
      } catch (error) {
        logger.error('SNS alert failed; the event will be retried', { error });
        return { outcome: 'failed', error };
      }
    })(),
    (async (): Promise<{ outcome: ChannelOutcome; error?: unknown }> => {
      if (!slackConfig.enabled) return { outcome: 'disabled' };
      if (delivered.has('slack')) return { outcome: 'sent' };
      try {
        const result = await d.slack.post(alert.slack, remaining);
        delivered.add('slack');
        if (result === 'not-configured') {
          logger.warn('Slack alerts are enabled but slackWebhookUrl is empty in the integrations secret');
          return { outcome: 'not-configured' };
        }
        metrics.addMetric('SlackAlertsSent', MetricUnit.Count, 1);
        return { outcome: 'sent' };
      } catch (error) {
        logSlackFailure(error);
        return { outcome: 'failed', error };
      }
    })(),
  ]);
  const sns = snsSent.outcome;
  const slack = slackSent.outcome;
  const failures = [snsSent, slackSent].filter((c) => c.outcome === 'failed').map((c) => c.error);

  if (failures.length > 0) {
    // Released with what went out, so the retry (or a DLQ redrive) sends only the rest.
    await untilLeaseEnds(() => d.ledger.release(key, [...delivered]), remaining);
    // Retryable first: Lambda retries either way, but the log and DLQ show the cause to act on.
    const first = failures.find((e) => e instanceof LeadPipelineError && e.retryable) ?? failures[0];
    throw first;
  }
  await untilLeaseEnds(() => d.ledger.complete(key), remaining);
  logger.info('Alert sent', { recipientId: alert.recipientId, slack, sns });
  return { ...base, outcome: 'alerted', recipientId: alert.recipientId, slack, sns };
}

/**
 * Writes what the sends did to the claim, retrying while this invocation still holds it: if the
 * write is lost (DynamoDB briefly unavailable after a send), the claim would be taken over when
 * its lease ends and the channels that went out sent again. Thrown once the lease is nearly over.
 */
async function untilLeaseEnds(write: () => Promise<void>, remaining: RemainingTime): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const pause = Math.min(2_000, 100 * 2 ** attempt);
      if (remaining() < pause + 1_000) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

function logSlackFailure(error: unknown): void {
  if (error instanceof SlackRejectedError) {
    metrics.addMetric('SlackAlertsRejected', MetricUnit.Count, 1);
    logger.error(`Slack alert rejected; fix before redriving the DLQ: ${error.message}`, {
      status: error.status,
      slackError: error.slackError,
    });
  } else if (error instanceof SlackRateLimitedError) {
    metrics.addMetric('SlackAlertsRateLimited', MetricUnit.Count, 1);
    logger.warn('Slack rate-limited the webhook beyond the time left; the event will be retried', {
      retryAfterSeconds: error.retryAfterSeconds,
    });
  } else {
    logger.error('Slack alert failed; the event will be retried', { error });
  }
}

/** Adapter settings that differ between Lambda and tests. */
export interface AlertAdapterOptions {
  readonly tableName: string;
  readonly topicArn: string;
  readonly secretArn: string;
  readonly config?: ClientConfig;
  readonly slack?: SlackWebhookOptions;
  readonly snsClient?: SNSClient;
  readonly secrets?: IntegrationsSecretReader;
  /** The console's base URL (`CONSOLE_URL`). @default - no console link */
  readonly consoleUrl?: string;
}

/** The real adapters: DynamoDB (lead + alert claims), SNS, Secrets Manager and Slack. */
export function alertDeps(options: AlertAdapterOptions): AlertDeps {
  const secrets = options.secrets ?? new SecretsManagerIntegrations(options.secretArn);
  return {
    config: options.config ?? clientConfig(),
    ...(options.consoleUrl ? { links: { consoleUrl: options.consoleUrl } } : {}),
    leads: new LeadRepository(options.tableName),
    slack: new SlackWebhook(async () => (await secrets.read()).slackWebhookUrl, options.slack),
    topic: new AlertTopic(options.topicArn, options.snsClient),
    ledger: new DynamoAlertLedger(options.tableName),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() =>
  createHandler(
    alertDeps({
      tableName: env.tableName,
      topicArn: env.alertTopicArn,
      secretArn: requireEnv(integrationSecretEnv('slack')),
      consoleUrl: env.optional.consoleUrl,
    }),
  ),
);
