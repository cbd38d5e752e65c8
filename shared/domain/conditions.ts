import { z } from 'zod';

/**
 * The small condition language shared by scoring rules and routing rules.
 *
 * A condition reads one field of a lead's facts (see {@link LeadFacts}) by dotted path
 * (`companySize`, `source.utm.campaign`, `extra.budget`) and tests it. Conditions are data,
 * so they live in the client file, are validated at synth time and explain themselves.
 */

const fieldPath = z
  .string()
  .min(1)
  .regex(/^[A-Za-z_][\w-]*(\.[\w-]+)*$/, 'a dotted field path such as "jobTitle" or "source.utm.campaign"');

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const base = {
  field: fieldPath,
  /** Invert the result, e.g. "country not in [...]". @default false */
  negate: z.boolean().default(false),
};

function isValidRegex(pattern: string, flags: string): boolean {
  try {
    new RegExp(pattern, flags);
    return true;
  } catch {
    return false;
  }
}

export const ConditionSchema = z.discriminatedUnion('op', [
  z.strictObject({ ...base, op: z.literal('equals'), value: scalar }),
  z.strictObject({ ...base, op: z.literal('in'), values: z.array(scalar).min(1) }),
  z.strictObject({ ...base, op: z.literal('contains'), value: z.string().min(1) }),
  z
    .strictObject({
      ...base,
      op: z.literal('regex'),
      pattern: z.string().min(1).max(500),
      /** RegExp flags. @default "i" (case-insensitive: form input is messy) */
      flags: z
        .string()
        .regex(/^[imsu]*$/, 'only the flags i, m, s and u are allowed')
        .default('i'),
    })
    .refine((c) => isValidRegex(c.pattern, c.flags), {
      message: 'pattern is not a valid regular expression',
      path: ['pattern'],
    }),
  z
    .strictObject({ ...base, op: z.literal('range'), min: z.number().optional(), max: z.number().optional() })
    .refine((c) => c.min !== undefined || c.max !== undefined, { message: 'a range needs min, max or both' })
    .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, {
      message: 'min must not be greater than max',
      path: ['min'],
    }),
  z.strictObject({ ...base, op: z.literal('exists'), value: z.boolean().default(true) }),
]);

/** One validated condition. */
export type Condition = z.output<typeof ConditionSchema>;

/** Any JSON-like object a condition can read; the lead facts are one. */
export type Facts = Readonly<Record<string, unknown>>;

/** Reads a dotted path from a facts object; `undefined` when any step is missing. */
export function readPath(facts: Facts, path: string): unknown {
  let current: unknown = facts;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function isPresent(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return value.trim().length > 0;
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.replace(/[,_\s]/g, ''));
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Case-insensitive equality for strings, exact for numbers and booleans ("5" equals 5). */
function looselyEqual(actual: unknown, expected: string | number | boolean): boolean {
  if (typeof expected === 'string')
    return typeof actual === 'string' && actual.toLowerCase() === expected.toLowerCase();
  if (typeof expected === 'number') return toNumber(actual) === expected;
  return actual === expected || (typeof actual === 'string' && actual.toLowerCase() === String(expected));
}

const regexCache = new Map<string, RegExp>();
function compiled(pattern: string, flags: string): RegExp {
  const key = `${flags}/${pattern}`;
  let re = regexCache.get(key);
  if (!re) {
    re = new RegExp(pattern, flags);
    regexCache.set(key, re);
  }
  return re;
}

function testOne(condition: Condition, actual: unknown): boolean {
  // Arrays (e.g. tags) match when any element matches, except for `exists`.
  if (Array.isArray(actual) && condition.op !== 'exists') {
    return actual.some((element) => testOne(condition, element));
  }
  switch (condition.op) {
    case 'equals':
      return looselyEqual(actual, condition.value);
    case 'in':
      return condition.values.some((v) => looselyEqual(actual, v));
    case 'contains':
      return typeof actual === 'string' && actual.toLowerCase().includes(condition.value.toLowerCase());
    case 'regex':
      return typeof actual === 'string' && compiled(condition.pattern, condition.flags).test(actual);
    case 'range': {
      const n = toNumber(actual);
      if (n === undefined) return false;
      return (
        (condition.min === undefined || n >= condition.min) &&
        (condition.max === undefined || n <= condition.max)
      );
    }
    case 'exists':
      return isPresent(actual) === condition.value;
  }
}

/** True when the condition holds for the facts (after `negate`). */
export function matches(condition: Condition, facts: Facts): boolean {
  const result = testOne(condition, readPath(facts, condition.field));
  return condition.negate ? !result : result;
}

/** True when every condition holds; an empty list always holds. */
export function matchesAll(conditions: readonly Condition[], facts: Facts): boolean {
  return conditions.every((c) => matches(c, facts));
}

/** A short human description of a condition, used in score and routing explanations. */
export function describeCondition(c: Condition): string {
  const not = c.negate ? 'not ' : '';
  switch (c.op) {
    case 'equals':
      return `${c.field} ${not}= ${JSON.stringify(c.value)}`;
    case 'in':
      return `${c.field} ${not}in [${c.values.map((v) => JSON.stringify(v)).join(', ')}]`;
    case 'contains':
      return `${c.field} ${not}contains ${JSON.stringify(c.value)}`;
    case 'regex':
      return `${c.field} ${not}matches /${c.pattern}/${c.flags}`;
    case 'range':
      return `${c.field} ${not}in range ${c.min ?? '-∞'}..${c.max ?? '∞'}`;
    case 'exists':
      return `${c.field} ${c.value !== c.negate ? 'is set' : 'is empty'}`;
  }
}
