import type { z } from 'zod';
import { type FieldProblem, InvalidInputError } from './errors';

/**
 * The one mapping from zod issues to {@link FieldProblem}s, so every 400 (API bodies, query
 * strings, webhook payloads, event details) names fields the same way: the path joined with
 * dots under an optional prefix (`detail.repId`, `entry.0.changes`), `whole` (`body`, `event`)
 * for the input itself, and unknown keys named with "not a recognised parameter".
 */
export function fieldProblems(error: z.ZodError, prefix?: string, whole = 'body'): FieldProblem[] {
  const path = (segments: readonly PropertyKey[]) =>
    [prefix, ...segments.map(String)].filter((p) => p !== undefined && p !== '').join('.');
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys')
      return {
        field: issue.keys.map((key) => path([...issue.path, key])).join(', '),
        reason: 'not a recognised parameter',
      };
    return { field: path(issue.path) || whole, reason: issue.message };
  });
}

/**
 * Parses `input` with `schema`.
 * @throws InvalidInputError naming every bad field (see {@link fieldProblems}).
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, prefix?: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidInputError(fieldProblems(result.error, prefix));
}
