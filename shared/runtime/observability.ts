import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CompactLogFormatter, quietEmptyMetrics } from './log-format';

/**
 * Powertools logger and metrics for this function instance. Service name and namespace
 * come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE set by the LeadFunction
 * construct, so every handler shares one setup.
 */
export const logger = new Logger({ logFormatter: new CompactLogFormatter() });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'LeadPipeline',
  logger: quietEmptyMetrics(logger),
});
