import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ClientConfigError } from '../../shared/config/load';
import type { ClientConfig } from '../../shared/config/schema';

/** `app` tag on every resource, next to `client=<name>`, for cost allocation. */
export const APP_TAG = 'lead-pipeline';

/** Stack names for a client: one stateful, one stateless stack. */
export function stackNames(clientName: string): {
  readonly data: string;
  readonly pipeline: string;
  readonly edge: string;
} {
  return {
    data: `LeadPipeline-${clientName}-Data`,
    pipeline: `LeadPipeline-${clientName}-Pipeline`,
    /** Only with `stack.waf.enabled`: the WAF web ACL, in us-east-1. */
    edge: `LeadPipeline-${clientName}-Edge`,
  };
}

/** The retention values CloudWatch Logs accepts (days), ascending. */
export const VALID_RETENTION_DAYS: readonly number[] = Object.values(RetentionDays)
  .filter((v): v is number => typeof v === 'number' && v !== RetentionDays.INFINITE)
  .sort((a, b) => a - b);

/**
 * `stack.logRetentionDays` as a CloudWatch retention. CloudWatch only accepts a fixed set of
 * values, so anything else fails synth with the field named rather than failing the deploy.
 */
export function logRetention(config: ClientConfig): RetentionDays {
  const days = config.stack.logRetentionDays;
  if (!VALID_RETENTION_DAYS.includes(days)) {
    throw new ClientConfigError(`clients/${config.client.name}`, [
      `stack.logRetentionDays: CloudWatch Logs accepts only ${VALID_RETENTION_DAYS.join(', ')} days; got ${days}`,
    ]);
  }
  return days as RetentionDays;
}

/** A Standard Step Functions execution may run for at most a year. */
const MAX_EXECUTION_HOURS = 365 * 24;

/**
 * Checks limits that only the infrastructure knows: a nurture sequence runs as one Step
 * Functions execution, so its waits must add up to less than a year.
 */
export function checkInfraLimits(config: ClientConfig): void {
  const problems: string[] = [];
  config.nurture.sequences.forEach((s, i) => {
    const hours = s.steps.reduce((sum, step) => sum + step.waitHours, 0);
    if (hours >= MAX_EXECUTION_HOURS) {
      problems.push(
        `nurture.sequences[${i}].steps: waits add up to ${hours} hours; a sequence must finish within one year (${MAX_EXECUTION_HOURS} hours)`,
      );
    }
  });
  if (problems.length > 0) throw new ClientConfigError(`clients/${config.client.name}`, problems);
  logRetention(config);
}
