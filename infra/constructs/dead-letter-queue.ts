import { Duration, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DLQ_RETENTION_DAYS } from '../../shared/config/retention';

/** Properties of a {@link DeadLetterQueue}. */
export interface DeadLetterQueueProps {
  /** Who sends here, for the queue's purpose in acknowledgements and the dashboard. */
  readonly consumer: string;
  /**
   * Whether a Lambda function's `DeadLetterConfig` points here. cdk-nag recognises that use but
   * not an EventBridge target's or an SNS subscription's dead-letter config.
   * @default false
   */
  readonly usedByLambda?: boolean;
}

/**
 * An encrypted, TLS-only SQS queue that keeps failed events for 14 days (the SQS maximum) so an
 * operator can inspect and redrive them. Every DLQ has a CloudWatch alarm on its depth.
 */
export class DeadLetterQueue extends Construct {
  /** The queue. */
  readonly queue: Queue;
  /** Who sends here. */
  readonly consumer: string;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    this.consumer = props.consumer;
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(DLQ_RETENTION_DAYS),
    });
    const v = Validations.of(this);
    v.acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This queue is itself the dead-letter queue; its messages wait for an operator to inspect and redrive them.',
    });
    if (!props.usedByLambda) {
      v.acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: `This queue is the dead-letter queue of the ${props.consumer} EventBridge target or SNS subscription, a use cdk-nag does not detect.`,
      });
    }
  }
}
