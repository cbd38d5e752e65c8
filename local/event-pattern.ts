/**
 * EventBridge event-pattern matching for the local bus.
 *
 * Implements the content filters EventBridge documents: exact values (strings, numbers, null,
 * booleans), `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but` (values,
 * prefix, suffix, wildcard), `numeric` ranges, `exists`, and `$or`. Arrays in the event match
 * when any element matches. Semantics follow the EventBridge user guide, so a rule that matches
 * here matches in AWS.
 */

export type EventPattern = { readonly [key: string]: unknown };

/** Thrown for a pattern EventBridge would reject, so a bad rule fails at boot, not silently. */
export class InvalidPatternError extends Error {
  override readonly name = 'InvalidPatternError';
}

/** True when the event matches the pattern. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return matchObject(pattern, event);
}

function matchObject(pattern: EventPattern, value: unknown): boolean {
  for (const [key, sub] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(sub)) throw new InvalidPatternError('$or needs an array of patterns');
      if (!sub.some((alt) => matchObject(alt as EventPattern, value))) return false;
      continue;
    }
    const field =
      value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(sub)) {
      if (!matchLeaf(sub, field)) return false;
    } else if (sub !== null && typeof sub === 'object') {
      if (field === undefined || field === null || typeof field !== 'object' || Array.isArray(field)) {
        // A nested pattern can still succeed when every leaf below only asks for absence.
        if (!matchObject(sub as EventPattern, {})) return false;
        if (field !== undefined) return false;
      } else if (!matchObject(sub as EventPattern, field)) return false;
    } else {
      throw new InvalidPatternError(`pattern values must be arrays or objects (at "${key}")`);
    }
  }
  return true;
}

/** A leaf: an array of allowed values or filter objects; the field matches if any matches. */
function matchLeaf(allowed: readonly unknown[], field: unknown): boolean {
  const existsFilter = allowed.find(
    (a): a is { exists: boolean } => a !== null && typeof a === 'object' && 'exists' in (a as object),
  );
  if (existsFilter) {
    const present = field !== undefined && !(Array.isArray(field) && field.length === 0);
    if (existsFilter.exists !== present) return false;
    if (allowed.length === 1) return true;
  }
  if (field === undefined) return false;
  const values = Array.isArray(field) ? field : [field];
  return values.some((v) => allowed.some((a) => a !== existsFilter && matchValue(a, v)));
}

function matchValue(filter: unknown, value: unknown): boolean {
  if (filter === null || typeof filter !== 'object') return filter === value;
  const f = filter as Record<string, unknown>;
  const [op, arg] = Object.entries(f)[0] ?? [];
  switch (op) {
    case 'prefix':
      return typeof value === 'string' && matchAffix(arg, value, 'prefix');
    case 'suffix':
      return typeof value === 'string' && matchAffix(arg, value, 'suffix');
    case 'equals-ignore-case':
      return (
        typeof value === 'string' && typeof arg === 'string' && value.toLowerCase() === arg.toLowerCase()
      );
    case 'wildcard':
      return typeof value === 'string' && typeof arg === 'string' && wildcard(arg).test(value);
    case 'anything-but':
      return !anythingButMatches(arg, value);
    case 'numeric':
      return typeof value === 'number' && numeric(arg, value);
    case 'cidr':
      return typeof value === 'string' && typeof arg === 'string' && cidrMatches(arg, value);
    default:
      throw new InvalidPatternError(`unsupported filter ${JSON.stringify(filter)}`);
  }
}

function matchAffix(arg: unknown, value: string, kind: 'prefix' | 'suffix'): boolean {
  if (typeof arg === 'string') return kind === 'prefix' ? value.startsWith(arg) : value.endsWith(arg);
  if (arg && typeof arg === 'object' && 'equals-ignore-case' in arg) {
    const needle = String((arg as Record<string, unknown>)['equals-ignore-case']).toLowerCase();
    const v = value.toLowerCase();
    return kind === 'prefix' ? v.startsWith(needle) : v.endsWith(needle);
  }
  throw new InvalidPatternError(`invalid ${kind} filter`);
}

function anythingButMatches(arg: unknown, value: unknown): boolean {
  if (Array.isArray(arg)) return arg.includes(value);
  if (arg !== null && typeof arg === 'object') {
    const [op, inner] = Object.entries(arg as Record<string, unknown>)[0] ?? [];
    if (typeof value !== 'string') return false;
    if (op === 'prefix') return typeof inner === 'string' && value.startsWith(inner);
    if (op === 'suffix') return typeof inner === 'string' && value.endsWith(inner);
    if (op === 'wildcard') return typeof inner === 'string' && wildcard(inner).test(value);
    if (op === 'equals-ignore-case') {
      const list = Array.isArray(inner) ? inner : [inner];
      return list.some((i) => typeof i === 'string' && i.toLowerCase() === value.toLowerCase());
    }
    throw new InvalidPatternError(`invalid anything-but filter ${JSON.stringify(arg)}`);
  }
  return arg === value;
}

function numeric(arg: unknown, value: number): boolean {
  if (!Array.isArray(arg) || arg.length % 2 !== 0)
    throw new InvalidPatternError('numeric needs operator/value pairs');
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const bound = arg[i + 1];
    if (typeof bound !== 'number') throw new InvalidPatternError('numeric bounds must be numbers');
    const ok =
      op === '='
        ? value === bound
        : op === '<'
          ? value < bound
          : op === '<='
            ? value <= bound
            : op === '>'
              ? value > bound
              : op === '>='
                ? value >= bound
                : undefined;
    if (ok === undefined) throw new InvalidPatternError(`unknown numeric operator ${String(op)}`);
    if (!ok) return false;
  }
  return true;
}

const wildcardCache = new Map<string, RegExp>();
function wildcard(pattern: string): RegExp {
  let re = wildcardCache.get(pattern);
  if (!re) {
    const source = pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    re = new RegExp(`^${source}$`, 's');
    wildcardCache.set(pattern, re);
  }
  return re;
}

function cidrMatches(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const toInt = (a: string) => a.split('.').reduce((acc, octet) => (acc << 8) + Number(octet), 0) >>> 0;
  if (!base || !Number.isInteger(bits) || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(base) & mask) === (toInt(ip) & mask);
}
