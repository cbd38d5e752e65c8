import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { TopicMessage } from './alert-topic-message';
import { rethrowAsDomain } from './aws-errors';

/**
 * Publishes rep alerts on the SNS topic (`ALERT_TOPIC_ARN`). Each message carries the `owner`
 * (rep id), `priority` and `eventType` attributes, so a rep's email or SMS subscription can use a
 * filter policy such as `{"owner": ["ana"], "priority": ["high"]}` and receive only their own
 * alerts. Throttling and 5xx are retried by the SDK and then surface as
 * `DependencyUnavailableError` so the platform retries the event.
 */
export class AlertTopic {
  private readonly client: SNSClient;

  constructor(
    private readonly topicArn: string,
    client?: SNSClient,
  ) {
    this.client = client ?? new SNSClient({ maxAttempts: 4 });
  }

  /** Publishes one alert. @returns the SNS message id. */
  async publish(alert: TopicMessage): Promise<string> {
    const { owner, priority, eventType } = alert.attributes;
    try {
      const out = await this.client.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: alert.subject,
          Message: alert.message,
          MessageAttributes: {
            owner: { DataType: 'String', StringValue: owner },
            priority: { DataType: 'String', StringValue: priority },
            eventType: { DataType: 'String', StringValue: eventType },
          },
        }),
      );
      return out.MessageId ?? '';
    } catch (error) {
      return rethrowAsDomain('SNS', error);
    }
  }
}
