import { CfnOutput, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  ConfigurationSet,
  ConfigurationSetTlsPolicy,
  EventDestination,
  SuppressionReasons,
} from 'aws-cdk-lib/aws-ses';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { LogLevel, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { LeadFunction } from '../constructs/lead-function';
import { SmsReminderWorkflow } from '../constructs/workflows';
import { SES_EVENT_TYPES } from './pipeline-consumers';

/**
 * The {@link PipelineStack}'s messaging: the SES configuration set (its events go to the
 * default bus), the KMS-encrypted alert and alarm topics, and the optional SMS channel. Created
 * in the stack's own scope, so the logical ids are those of the stack's constructor before.
 */

/** The configuration set, the default bus it publishes to, and the topics with their key. */
export function pipelineMessaging(stack: Stack, clientName: string) {
  // ── Email: configuration set → default bus (the only bus SES can publish to) ─────────────
  // No SES templates (CfnTemplate) are created: functions render the client's templates
  // from the bundled config and send Simple content, so a copy edit is one deploy and the
  // rendered HTML is unit-tested instead of living in a second place.
  const configurationSet = new ConfigurationSet(stack, 'Email', {
    reputationMetrics: true,
    sendingEnabled: true,
    suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    tlsPolicy: ConfigurationSetTlsPolicy.REQUIRE,
  });
  const defaultBus = EventBus.fromEventBusName(stack, 'DefaultBus', 'default');
  configurationSet.addEventDestination('ToEventBridge', {
    destination: EventDestination.eventBus(defaultBus),
    events: [...SES_EVENT_TYPES],
  });

  // ── Topics ─────────────────────────────────────────────────────────────────────────────────
  const topicKey = new Key(stack, 'TopicKey', {
    description: `lead-pipeline ${clientName}: SNS alert and alarm topics`,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // CloudWatch alarms publish to the encrypted alarm topic, so CloudWatch must use the key.
  topicKey.addToResourcePolicy(
    new PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  );
  /*
   * Rep alerts. The `alert` function publishes one message per alert with two message
   * attributes, so each rep subscribes (email, SMS or mobile push) with a filter policy:
   *   owner    (String) the rep id the alert is about, e.g. {"owner": ["ana"]}
   *   priority (String) low | normal | high,          e.g. {"priority": ["high"]} for an on-call phone
   * e.g. aws sns subscribe --topic-arn <AlertTopicArn> --protocol email \
   *        --notification-endpoint ana@example.com --attributes '{"FilterPolicy":"{\"owner\":[\"ana\"]}"}'
   * Subscriptions are left to the reps (they confirm by email) rather than created here.
   */
  const alertTopic = new Topic(stack, 'RepAlerts', { masterKey: topicKey, enforceSSL: true });
  const alarmTopic = new Topic(stack, 'Alarms', { masterKey: topicKey, enforceSSL: true });
  return { configurationSet, defaultBus, topicKey, alertTopic, alarmTopic };
}

/** What the SMS channel needs from the stack. */
export interface SmsChannelProps {
  /** The `sms` function (texts, STOP replies, reminders). */
  readonly fn: LeadFunction;
  /** The key of the stack's topics. */
  readonly topicKey: Key;
  readonly logRetention: RetentionDays;
  readonly logging: { level: LogLevel; includeExecutionData: boolean };
  /** Replies the function could not take. */
  readonly inboundDeadLetterQueue: IQueue;
}

/**
 * SMS (client file `sms.enabled`): the two-way channel's inbound topic (End User Messaging SMS
 * publishes replies to it; the function opts numbers out on STOP) and the meeting-reminder
 * workflow (started by `Meeting Booked`, see the stack's consumers).
 */
export function addSmsChannel(
  stack: Stack,
  props: SmsChannelProps,
): { inboundTopic: Topic; reminders: StateMachine } {
  const { fn, topicKey } = props;
  const inboundTopic = new Topic(stack, 'SmsInbound', { masterKey: topicKey, enforceSSL: true });
  // End User Messaging SMS publishes the replies of the two-way channel (set the topic on the
  // phone number's two-way settings); it needs the topic's key to do so.
  const smsService = new ServicePrincipal('sms-voice.amazonaws.com');
  inboundTopic.grantPublish(smsService);
  topicKey.grant(smsService, 'kms:GenerateDataKey*', 'kms:Decrypt');
  inboundTopic.addSubscription(
    new LambdaSubscription(fn.fn, { deadLetterQueue: props.inboundDeadLetterQueue }),
  );
  const reminders = new SmsReminderWorkflow(stack, 'SmsReminderWorkflow', {
    handler: fn.fn,
    logRetention: props.logRetention,
    logging: props.logging,
  }).stateMachine;
  new CfnOutput(stack, 'SmsInboundTopicArn', {
    value: inboundTopic.topicArn,
    description: "SNS topic for the two-way SMS channel's replies (STOP opts the number out)",
  });
  return { inboundTopic, reminders };
}
