import type { z } from 'zod';
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

/** Renders a zod issue path as `reps[2].timezone`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

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
