import { z } from 'zod';

/**
 * What the deployment logs and traces, and what that costs (see the README's benchmarks):
 * CloudWatch Logs are priced per byte ingested, so the defaults log one line per handled event
 * and keep the rest behind the log level.
 */
export const ObservabilitySchema = z.strictObject({
  /** The functions' log level: one INFO line per handled event, detail at DEBUG. @default "INFO" */
  logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  /**
   * Share of invocations (0-1) that log at DEBUG whatever `logLevel` says (Powertools debug
   * sampling), to see the detail of a few live requests. @default 0
   */
  debugSampleRate: z.number().min(0).max(1).default(0),
  /**
   * Lambda's own platform lines (START, END, REPORT with duration and memory): `INFO` writes
   * them for every invocation (~300 bytes each), `WARN` only platform warnings and errors
   * (duration and memory remain CloudWatch metrics). @default "WARN"
   */
  platformLogLevel: z.enum(['DEBUG', 'INFO', 'WARN']).default('WARN'),
  /**
   * Step Functions execution logging: `ERROR` logs failed executions only, `ALL` every state
   * (with the state input and output when `includeExecutionData`). @default "ERROR"
   */
  stateMachineLogLevel: z.enum(['OFF', 'FATAL', 'ERROR', 'ALL']).default('ERROR'),
  /** Include state input and output in the state machines' logs (may hold lead data). @default false */
  stateMachineExecutionData: z.boolean().default(false),
  /**
   * Load the bundles' source maps at run time (`--enable-source-maps`): stack traces point at
   * the TypeScript source, but every cold start parses a 1-4 MB map. The maps ship in every
   * bundle's asset either way. @default false
   */
  sourceMaps: z.boolean().default(false),
});
