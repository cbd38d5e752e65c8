import { Logger } from '@aws-lambda-powertools/logger';
import type { LogItemExtraInput, LogItemMessage } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CompactLogFormatter, quietEmptyMetrics } from './log-format';

/**
 * No Powertools Tracer (see `handler.ts`): Lambda's active tracing records each invocation's
 * segment without responses or outbound URLs, so X-Ray holds no lead details or webhook secrets
 * (the Slack incoming-webhook path is the secret itself) where erasure cannot reach them.
 */

/**
 * Powertools logger and metrics for this function instance. Service name and namespace
 * come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE set by the LeadFunction
 * construct, so every handler shares one setup.
 */
export const logger: Logger = new (class PipelineLogger extends Logger {
  protected override processLogItem(
    logLevel: number,
    input: LogItemMessage,
    extraInput: LogItemExtraInput,
  ): void {
    const main = typeof input === 'string' ? input : { ...keepReserved(input), message: input.message };
    super.processLogItem(logLevel, main, extraInput.map(keepReserved) as LogItemExtraInput);
  }
  override appendKeys(attributes: Parameters<Logger['appendKeys']>[0]): void {
    super.appendKeys(keepReserved(attributes));
  }
  override appendPersistentKeys(attributes: Parameters<Logger['appendKeys']>[0]): void {
    super.appendPersistentKeys(keepReserved(attributes));
  }
})({ logFormatter: new CompactLogFormatter() });

/**
 * Keys Powertools keeps for itself and silently drops from a log call's attributes (with only a
 * "reserved key" warning), e.g. `{ message: error.message }` would lose the very text that says
 * what went wrong.
 */
export const RESERVED_LOG_KEYS = ['level', 'message', 'sampling_rate', 'service', 'timestamp'] as const;

/**
 * Renames reserved keys of a log call's attributes (`message` → `messageDetail`) so their values
 * are logged instead of dropped; anything else (an Error, a string) passes unchanged.
 */
export function keepReserved<T>(value: T): T {
  if (value === null || typeof value !== 'object' || value instanceof Error || Array.isArray(value)) {
    return value;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (!entries.some(([key]) => (RESERVED_LOG_KEYS as readonly string[]).includes(key))) return value;
  return Object.fromEntries(
    entries.map(([key, v]) => [
      (RESERVED_LOG_KEYS as readonly string[]).includes(key) ? `${key}Detail` : key,
      v,
    ]),
  ) as T;
}
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'LeadPipeline',
  logger: quietEmptyMetrics(logger),
});
