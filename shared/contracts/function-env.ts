import { z } from 'zod';

/**
 * The environment a function runs with: one zod schema that the stack's `LeadFunction` sets
 * variables from (by the names in {@link ENV}) and that every handler reads them through
 * ({@link requireEnv}, {@link optionalEnv}). Each function gets only the variables its access
 * needs, so every variable is optional here and required where it is read. The integration
 * secrets' ARNs come as `<NAME>_SECRET_ARN` (`integrationSecretEnv` in `integration-secrets.ts`).
 */
const name = z.string().min(1, 'must not be empty');
const arn = z.string().startsWith('arn:', 'must be an ARN');
const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const FunctionEnvSchema = z.object({
  POWERTOOLS_SERVICE_NAME: name.optional(),
  POWERTOOLS_METRICS_NAMESPACE: name.optional(),
  POWERTOOLS_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).optional(),
  POWERTOOLS_LOGGER_SAMPLE_RATE: z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'a rate between 0 and 1')
    .optional(),
  NODE_OPTIONS: z.string().optional(),
  CLIENT_NAME: name.optional(),
  TABLE_NAME: name.optional(),
  EVENT_BUS_NAME: name.optional(),
  ALERT_TOPIC_ARN: arn.optional(),
  CONFIGURATION_SET_NAME: name.optional(),
  SLA_SCHEDULE_GROUP: name.optional(),
  SLA_SCHEDULER_ROLE_ARN: arn.optional(),
  SLA_SCHEDULE_DLQ_ARN: arn.optional(),
  NURTURE_STATE_MACHINE_ARN: arn.optional(),
  API_URL: url.optional(),
  CONSOLE_URL: url.optional(),
});

/** A variable the stack may set on a function: one of the schema's, or an integration secret's ARN. */
export type EnvName = keyof z.infer<typeof FunctionEnvSchema> | `${string}_SECRET_ARN`;

/** The schema of one variable (integration secrets' ARNs are ARNs). */
function schemaOf(variable: EnvName): z.ZodType<string | undefined> {
  const shape: Record<string, z.ZodType<string | undefined>> = FunctionEnvSchema.shape;
  return shape[variable] ?? arn.optional();
}

/** The variables' names by role, for the stack's side (`fn.addEnvironment(ENV.tableName, …)`). */
export const ENV = {
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  debugSampleRate: 'POWERTOOLS_LOGGER_SAMPLE_RATE',
  nodeOptions: 'NODE_OPTIONS',
  clientName: 'CLIENT_NAME',
  tableName: 'TABLE_NAME',
  eventBusName: 'EVENT_BUS_NAME',
  alertTopicArn: 'ALERT_TOPIC_ARN',
  configurationSetName: 'CONFIGURATION_SET_NAME',
  slaScheduleGroup: 'SLA_SCHEDULE_GROUP',
  slaSchedulerRoleArn: 'SLA_SCHEDULER_ROLE_ARN',
  slaScheduleDeadLetterQueueArn: 'SLA_SCHEDULE_DLQ_ARN',
  nurtureStateMachineArn: 'NURTURE_STATE_MACHINE_ARN',
  apiUrl: 'API_URL',
  consoleUrl: 'CONSOLE_URL',
} as const satisfies Record<string, keyof z.infer<typeof FunctionEnvSchema>>;

/** A variable that is absent or fails the schema; the message names the variable and the reason. */
export class FunctionEnvError extends Error {
  constructor(
    readonly variable: EnvName,
    reason: string,
  ) {
    super(`Environment variable ${variable} ${reason}: the stack sets it from the function's access`);
  }
}

/**
 * A variable, validated by the schema; `undefined` when absent or empty.
 * @throws FunctionEnvError when it is set to a value the schema refuses.
 */
export function optionalEnv(variable: EnvName, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = env[variable];
  if (raw === undefined || raw === '') return undefined;
  const parsed = schemaOf(variable).safeParse(raw);
  if (!parsed.success) throw new FunctionEnvError(variable, parsed.error.issues[0]?.message ?? 'is invalid');
  return parsed.data ?? raw;
}

/**
 * A variable the function cannot work without, failing fast at cold start with its name.
 * @throws FunctionEnvError when it is absent, empty or refused by the schema.
 */
export function requireEnv(variable: EnvName, env: NodeJS.ProcessEnv = process.env): string {
  const value = optionalEnv(variable, env);
  if (value === undefined) throw new FunctionEnvError(variable, 'is missing');
  return value;
}

/** A role of {@link ENV} (`tableName`, `eventBusName`...). */
export type EnvRole = keyof typeof ENV;

/**
 * The function's environment by role, the names the stack sets it by (`ENV`): `env.tableName`
 * is `TABLE_NAME` validated by the schema, and throws {@link FunctionEnvError} naming it when
 * absent; `env.optional.apiUrl` is `undefined` when absent. Read on access, so importing a
 * handler (a test, the bundler) needs no environment.
 */
export type FunctionEnv = { readonly [R in EnvRole]: string } & {
  readonly optional: { readonly [R in EnvRole]: string | undefined };
};

/** {@link FunctionEnv} over `source`. @default - `process.env` as it is when a variable is read */
export function functionEnv(source?: NodeJS.ProcessEnv): FunctionEnv {
  const required: Record<string, string> = {};
  const optional: Record<string, string | undefined> = {};
  for (const [role, variable] of Object.entries(ENV)) {
    Object.defineProperty(required, role, {
      enumerable: true,
      get: () => requireEnv(variable, source ?? process.env),
    });
    Object.defineProperty(optional, role, {
      enumerable: true,
      get: () => optionalEnv(variable, source ?? process.env),
    });
  }
  return Object.assign(required, { optional }) as unknown as FunctionEnv;
}

/** The running function's environment (see {@link FunctionEnv}). */
export const env: FunctionEnv = functionEnv();
