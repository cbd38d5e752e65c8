import type { z } from 'zod';
import { formatPath } from './issue-path';
import { type ClientConfig, ClientConfigSchema } from './schema';

/** A client file that is missing, unreadable or invalid. The message names every bad field. */
export class ClientConfigError extends Error {
  override readonly name = 'ClientConfigError';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid client config ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export { formatPath };

/** One line per issue: `<path>: <what was expected>`. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${formatPath(i.path) || '(root)'}: ${i.message}`);
}

/** Validates an already-parsed config object, throwing {@link ClientConfigError} on any problem. */
export function parseClientConfig(raw: unknown, file = '(inline)'): ClientConfig {
  const result = ClientConfigSchema.safeParse(raw);
  if (!result.success) throw new ClientConfigError(file, formatIssues(result.error));
  return result.data;
}
