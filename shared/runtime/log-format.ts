import { LogFormatter, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

/**
 * The functions' log line: Powertools' structured JSON without the per-line Lambda context that
 * CloudWatch already knows from the log group and stream (function name and ARN, memory size,
 * sampling rate, X-Ray trace id: about 330 of a typical line's 550 bytes). What remains is what a
 * reader filters on: level, message, time, service, the request id (to follow one invocation),
 * `cold_start` on a cold start only, and the handler's own keys (lead id, outcome...).
 * CloudWatch Logs bills every byte ingested, and a lead passes through a dozen invocations.
 */
export class CompactLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const context = attributes.lambdaContext;
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        ...(context?.awsRequestId ? { requestId: context.awsRequestId } : {}),
        ...(context?.coldStart ? { cold_start: true } : {}),
      },
    }).addAttributes(additional);
  }
}

/** What Powertools Metrics logs through (its own warnings). */
interface MetricsLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/**
 * The logger for Powertools Metrics' own messages, with "No application metrics to publish"
 * moved to DEBUG: most invocations record no metric, and that warning would otherwise add a
 * line to every one of them. Every other warning (a bad dimension, a skipped metric) stays a
 * warning.
 */
export function quietEmptyMetrics(logger: {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}): MetricsLogger {
  const text = (args: unknown[]) => args.map(String).join(' ');
  return {
    debug: (...args) => logger.debug(text(args)),
    info: (...args) => logger.info(text(args)),
    warn: (...args) => {
      const message = text(args);
      if (message.startsWith('No application metrics to publish')) logger.debug(message);
      else logger.warn(message);
    },
    error: (...args) => logger.error(text(args)),
  };
}
