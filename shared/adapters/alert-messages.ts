import type { Priority } from '../config/schema';
import {
  type AlertConfig,
  type AlertEvent,
  type AlertEventType,
  type AlertFacts,
  type AlertLinks,
  type AlertPlan,
  planAlert,
} from '../domain/alerts';
import type { Lead } from '../domain/lead';
import { type TopicMessage, topicAlert } from './alert-topic-message';
import { type SlackMessage, slackAlert } from './slack-blocks';

/** A ready-to-send alert: the domain's facts rendered for each channel. */
export interface Alert {
  readonly eventType: AlertEventType;
  readonly leadId: string;
  /** The rep who should act. */
  readonly recipientId: string;
  readonly priority: Priority;
  readonly slack: SlackMessage;
  readonly topic: TopicMessage;
}

/** The alert's facts as a Slack message and an SNS notification. */
export function renderAlert(facts: AlertFacts): Alert {
  return {
    eventType: facts.eventType,
    leadId: facts.leadId,
    recipientId: facts.recipient.id,
    priority: facts.priority,
    slack: slackAlert(facts),
    topic: topicAlert(facts),
  };
}

/** {@link planAlert}, rendered for every channel when there is an alert to send. */
export function buildAlert(
  event: AlertEvent,
  lead: Lead,
  config: AlertConfig,
  links: AlertLinks = {},
): AlertPlan<Alert> {
  const plan = planAlert(event, lead, config, links);
  return plan.send ? { send: true, alert: renderAlert(plan.alert) } : plan;
}
