import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CompactLogFormatter, quietEmptyMetrics } from '../../shared/runtime/log-format';

const context = {
  functionName: 'LeadPipeline-example-Pipeline-RouteFunction1234-AbCdEf',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:LeadPipeline-example-RouteFunction',
  memoryLimitInMB: '512',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  getRemainingTimeInMillis: () => 1000,
};

/** Every line the logger prints, parsed. */
function captured(): Array<Record<string, unknown>> {
  const spy = vi.mocked(process.stdout.write);
  return spy.mock.calls.map(([chunk]) => JSON.parse(String(chunk)) as Record<string, unknown>);
}

afterEach(() => vi.restoreAllMocks());

describe('CompactLogFormatter', () => {
  it('writes level, message, time, service, request id and the handler’s keys, nothing per-function', () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const logger = new Logger({ serviceName: 'route', logFormatter: new CompactLogFormatter() });
    logger.addContext(context as never);
    logger.info('Lead routed', { leadId: 'lead-1', outcome: 'assigned' });
    const [line] = captured();
    expect(line).toEqual({
      level: 'INFO',
      message: 'Lead routed',
      timestamp: expect.any(String),
      service: 'route',
      requestId: context.awsRequestId,
      ...(line?.cold_start ? { cold_start: true } : {}),
      leadId: 'lead-1',
      outcome: 'assigned',
    });
    expect(JSON.stringify(line)).not.toContain(context.invokedFunctionArn);
    expect(JSON.stringify(line).length).toBeLessThan(300);
  });
});

describe('quietEmptyMetrics', () => {
  it('moves only the empty-metrics notice to DEBUG', () => {
    const calls: string[] = [];
    const log = {
      debug: (m: string) => calls.push(`debug:${m}`),
      info: (m: string) => calls.push(`info:${m}`),
      warn: (m: string) => calls.push(`warn:${m}`),
      error: (m: string) => calls.push(`error:${m}`),
    };
    const quiet = quietEmptyMetrics(log);
    quiet.warn('No application metrics to publish. The cold-start metric may be published if enabled.');
    quiet.warn('Dimension "x" has already been added.');
    expect(calls).toEqual([
      'debug:No application metrics to publish. The cold-start metric may be published if enabled.',
      'warn:Dimension "x" has already been added.',
    ]);
  });
});
