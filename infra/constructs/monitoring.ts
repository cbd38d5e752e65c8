import { Duration, Fn, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  SingleValueWidget,
  Stats,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { DeadLetterQueue } from './dead-letter-queue';
import type { LeadFunction } from './lead-function';

/**
 * SES account review thresholds: AWS may pause sending at a 10% bounce / 0.5% complaint rate and
 * reviews accounts from 5% / 0.1%, so the alarms fire at the review level.
 */
export const SES_THRESHOLDS = { bounceRate: 0.05, complaintRate: 0.001 } as const;

/** Properties of {@link Monitoring}. */
export interface MonitoringProps {
  /** Client name, for the dashboard title. */
  readonly clientName: string;
  /** Every alarm notifies this topic. */
  readonly alarmTopic: ITopic;
  /** The HTTP API. */
  readonly api: HttpApi;
  /** Every pipeline function. */
  readonly functions: readonly LeadFunction[];
  /** The workflows, by short name. */
  readonly stateMachines: Readonly<Record<string, StateMachine>>;
  /** Every dead-letter queue. */
  readonly deadLetterQueues: readonly DeadLetterQueue[];
  /** Alarm evaluation period. @default 5 minutes */
  readonly period?: Duration;
}

/**
 * Alarms and the client's dashboard, with plain `aws-cloudwatch` (no extra dependency): a DLQ
 * that holds anything, any function error, any failed workflow execution, and SES reputation at
 * the review thresholds all notify the alarm topic.
 */
export class Monitoring extends Construct {
  /** The client's dashboard. */
  readonly dashboard: Dashboard;
  /** Console URL of the dashboard. */
  readonly dashboardUrl: string;
  /** Every alarm created, for tests and further wiring. */
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const period = props.period ?? Duration.minutes(5);
    const action = new SnsAction(props.alarmTopic);
    const alarm = (
      alarmId: string,
      metric: IMetric,
      description: string,
      threshold: number,
      op: ComparisonOperator,
    ) => {
      const a = new Alarm(this, alarmId, {
        metric,
        threshold,
        comparisonOperator: op,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(action);
      this.alarms.push(a);
      return a;
    };

    for (const dlq of props.deadLetterQueues) {
      alarm(
        `${dlq.node.id}Depth`,
        dlq.queue.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MAXIMUM }),
        `Events for ${dlq.consumer} failed and wait in its dead-letter queue: inspect and redrive them.`,
        0,
        ComparisonOperator.GREATER_THAN_THRESHOLD,
      );
    }
    for (const f of props.functions) {
      alarm(
        `${f.node.id}Errors`,
        f.fn.metricErrors({ period, statistic: Stats.SUM }),
        `The ${f.functionName} function failed: see its log group and X-Ray traces.`,
        1,
        ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      );
    }
    for (const [name, machine] of Object.entries(props.stateMachines)) {
      alarm(
        `${name.charAt(0).toUpperCase()}${name.slice(1)}ExecutionsFailed`,
        machine.metricFailed({ period, statistic: Stats.SUM }),
        `A ${name} workflow execution failed: open it in the Step Functions console.`,
        1,
        ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      );
    }
    const sesRate = (metricName: string) =>
      new Metric({ namespace: 'AWS/SES', metricName, period: Duration.hours(1), statistic: Stats.MAXIMUM });
    const bounceRate = sesRate('Reputation.BounceRate');
    const complaintRate = sesRate('Reputation.ComplaintRate');
    alarm(
      'SesBounceRate',
      bounceRate,
      'SES bounce rate reached 5% (AWS review level): clean the list before sending more.',
      SES_THRESHOLDS.bounceRate,
      ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );
    alarm(
      'SesComplaintRate',
      complaintRate,
      'SES complaint rate reached 0.1% (AWS review level): review nurture content and consent.',
      SES_THRESHOLDS.complaintRate,
      ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );

    // ── Dashboard ──────────────────────────────────────────────────────────────────────────────
    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.days(1) });
    const fnMetrics = (pick: (f: LeadFunction) => IMetric) => props.functions.map(pick);
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# Lead pipeline: ${props.clientName}\nAPI traffic, function health, workflows, dead-letter queues and email reputation.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'API requests and errors',
        left: [
          props.api.metricCount({ period }),
          props.api.metricClientError({ period }),
          props.api.metricServerError({ period }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'API latency (p95, ms)',
        left: [props.api.metricLatency({ period, statistic: Stats.p(95) })],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors',
        left: fnMetrics((f) => f.fn.metricErrors({ period, label: f.functionName })),
        width: 12,
      }),
      new GraphWidget({
        title: 'Function duration (p95, ms)',
        left: fnMetrics((f) =>
          f.fn.metricDuration({ period, statistic: Stats.p(95), label: f.functionName }),
        ),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Workflow executions',
        left: Object.entries(props.stateMachines).flatMap(([name, m]) => [
          m.metricStarted({ period, label: `${name} started` }),
          m.metricFailed({ period, label: `${name} failed` }),
        ]),
        width: 12,
      }),
      new GraphWidget({
        title: 'Dead-letter queue depth',
        left: props.deadLetterQueues.map((d) =>
          d.queue.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: Stats.MAXIMUM,
            label: d.consumer,
          }),
        ),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new SingleValueWidget({
        title: 'SES reputation (review at 5% bounces / 0.1% complaints)',
        metrics: [bounceRate, complaintRate],
        width: 24,
      }),
    );

    const region = Stack.of(this).region;
    this.dashboardUrl = Fn.join('', [
      'https://',
      region,
      '.console.aws.amazon.com/cloudwatch/home?region=',
      region,
      '#dashboards:name=',
      this.dashboard.dashboardName,
    ]);
  }
}
