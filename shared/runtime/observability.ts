import { Logger } from '@aws-lambda-powertools/logger';
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
export const logger = new Logger();
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'LeadPipeline' });
export const tracer = new Tracer({
  captureHTTPsRequests: TRACE_PRIVACY.captureHTTPsRequests,
  customConfigService: privacyConfig,
});
