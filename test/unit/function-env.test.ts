import { describe, expect, it } from 'vitest';
import {
  ENV,
  FunctionEnvError,
  FunctionEnvSchema,
  functionEnv,
  optionalEnv,
  requireEnv,
} from '../../shared/contracts/function-env';
import { INTEGRATION_NAMES, integrationSecretEnv } from '../../shared/contracts/integration-secrets';

describe('the function environment schema', () => {
  it('is where the stack takes every variable name from', () => {
    expect(Object.values(ENV).sort()).toEqual(Object.keys(FunctionEnvSchema.shape).sort());
  });

  it('reads a required variable, naming it when it is missing or empty', () => {
    expect(requireEnv('TABLE_NAME', { TABLE_NAME: 'leads' })).toBe('leads');
    expect(() => requireEnv('TABLE_NAME', {})).toThrow(FunctionEnvError);
    expect(() => requireEnv('TABLE_NAME', { TABLE_NAME: '' })).toThrow(/TABLE_NAME is missing/);
  });

  it('refuses a value of the wrong shape, naming the variable and the reason', () => {
    expect(() => requireEnv('SLA_SCHEDULER_ROLE_ARN', { SLA_SCHEDULER_ROLE_ARN: 'sla' })).toThrow(
      /SLA_SCHEDULER_ROLE_ARN must be an ARN/,
    );
    expect(() => optionalEnv('API_URL', { API_URL: 'javascript:alert(1)' })).toThrow(/API_URL/);
    expect(() => requireEnv(integrationSecretEnv('slack'), { SLACK_SECRET_ARN: 'nope' })).toThrow(
      /must be an ARN/,
    );
  });

  it('is read by role, the names the stack sets it by, through the schema', () => {
    const env = functionEnv({ TABLE_NAME: 'leads', API_URL: 'https://api.example.com' });
    expect(env.tableName).toBe('leads');
    expect(env.optional.apiUrl).toBe('https://api.example.com');
    expect(env.optional.consoleUrl).toBeUndefined();
    expect(() => env.eventBusName).toThrow(/EVENT_BUS_NAME is missing/);
    expect(() => functionEnv({ ALERT_TOPIC_ARN: 'topic' }).alertTopicArn).toThrow(
      /ALERT_TOPIC_ARN must be an ARN/,
    );
  });

  it('treats an absent optional variable as undefined', () => {
    expect(optionalEnv('CONSOLE_URL', {})).toBeUndefined();
    expect(optionalEnv('API_URL', { API_URL: 'https://api.example.com/' })).toBe('https://api.example.com/');
  });

  it('reads every integration secret ARN as an ARN', () => {
    for (const name of INTEGRATION_NAMES) {
      const variable = integrationSecretEnv(name);
      expect(
        requireEnv(variable, { [variable]: `arn:aws:secretsmanager:eu-west-1:1:secret:${name}` }),
      ).toMatch(/^arn:/);
    }
  });
});
