import { Logger } from '@aws-lambda-powertools/logger';
import type { LogItemExtraInput, LogItemMessage } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * What X-Ray may record, fixed in code so no environment variable can turn it back on:
 * - no handler or method **responses** as trace metadata: they hold lead details and person
 *   exports, and X-Ray keeps traces for 30 days where erasure cannot reach them;
 * - no **outbound HTTP** subsegments: Powertools records each request's URL path, and the Slack
 *   incoming-webhook path is the secret itself while enrichment URLs may carry the email. The
 *   tracer offers no redaction hook, so capture is off rather than redacted.
 * Errors are still captured (their messages name fields, not values), as are the Lambda segment
 * and its cold-start and service annotations.
 */
export const TRACE_PRIVACY = { captureResponse: false, captureHTTPsRequests: false } as const;

/** The tracer's configuration-service type (the package does not export it by name). */
type TracerConfigService = NonNullable<
  NonNullable<ConstructorParameters<typeof Tracer>[0]>['customConfigService']
>;

/** Answers only the two settings above; everything else falls through to the environment. */
const privacyConfig: TracerConfigService = {
  get: () => '',
  getServiceName: () => '',
  getXrayTraceId: () => undefined,
  getXrayTraceSampled: () => false,
  isDevMode: () => false,
  isValueTrue: (value: string) => ['1', 'y', 'yes', 't', 'true', 'on'].includes(value.toLowerCase()),
  getAwsExecutionEnv: () => '',
  getSamLocal: () => '',
  getTracingEnabled: () => '',
  getTracingCaptureError: () => '',
  getTracingCaptureResponse: () => String(TRACE_PRIVACY.captureResponse),
  getCaptureHTTPsRequests: () => String(TRACE_PRIVACY.captureHTTPsRequests),
};

/**
 * Powertools logger, metrics and tracer for this function instance. Service name and namespace
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
})();

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
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'LeadPipeline' });
export const tracer = new Tracer({
  captureHTTPsRequests: TRACE_PRIVACY.captureHTTPsRequests,
  customConfigService: privacyConfig,
});
