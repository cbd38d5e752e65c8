import { cleanText } from './clean-text';
import { TEXT_LIMITS } from './lead';
import { emptyToUndefined } from './submission';

/** Fields no alias names, kept under `extra` with stable keys and a bound, the overflow listed in `droppedFields`. */

// ---------------------------------------------------------------------------------------------
// Extra fields

/** 32-bit FNV-1a, for a stable key when a field name has no Latin letters or digits at all. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** A Salesforce custom field id as Web-to-Lead forms name their fields (`00N5e00000AbCdE`). */
export const SALESFORCE_FIELD_ID = /^00N[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/;

/**
 * The key an unknown field is stored under in `extra`: snake_case ASCII, at most
 * TEXT_LIMITS.extraKey characters ("How did you hear?" → `how_did_you_hear`, "budgetRange" →
 * `budget_range`), so scoring and routing conditions can address it as `extra.how_did_you_hear`.
 * A name with no Latin letters or digits ("预算") gets a stable `field_<hash>`. A Salesforce
 * custom field id (`00N5e00000AbCdE`, case-sensitive) is kept as it is. Idempotent.
 */
export function extraKey(key: string): string {
  // Salesforce custom field ids are case-sensitive: folding them would merge different fields.
  if (SALESFORCE_FIELD_ID.test(key)) return key;
  const slug = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, TEXT_LIMITS.extraKey)
    .replace(/_+$/, '');
  return slug.length > 0 ? slug : `field_${fnv1a(key)}`;
}

/** An extra field's value as text: strings as given, anything else as JSON; cleaned and cut. */
export function extraValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  let s: string;
  if (typeof value === 'string') s = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    s = String(value);
  else {
    if (Array.isArray(value) && value.length === 0) return undefined;
    if (typeof value === 'object' && Object.keys(value).length === 0) return undefined;
    try {
      s = JSON.stringify(value) ?? '';
    } catch {
      // Functions, cycles: not JSON-able, so not data from a form. Still record that it came.
      s = String(value);
    }
  }
  return emptyToUndefined(cleanText(s, TEXT_LIMITS.extraValue, true));
}

/** Most field names listed in `droppedFields` (the schema's bound). */
export const MAX_DROPPED_FIELDS = 50;

/** Default bound on `extra` when merging profiles, matching `capture.maxExtraFields`'s default. */
export const DEFAULT_MAX_EXTRA_FIELDS = 25;

/** Collects `extra` entries under a bound, recording what did not fit. */
export class ExtraCollector {
  readonly extra = new Map<string, string>();
  /** `droppedFields`: carried over from the input, then this submission's overflow. */
  readonly dropped: string[] = [];
  /** Names of this submission's fields that did not fit, for the warning (not bounded by the list). */
  readonly overflowed: string[] = [];

  constructor(private readonly max: number) {}

  /** Adds a field; a different field whose key folds to the same name gets `_2`, `_3`... */
  add(rawKey: string, value: string): void {
    const base = extraKey(rawKey);
    let key = base;
    for (let n = 2; this.extra.has(key); n++) {
      const suffix = `_${n}`;
      key = `${base.slice(0, TEXT_LIMITS.extraKey - suffix.length)}${suffix}`;
    }
    if (this.extra.size < this.max) {
      this.extra.set(key, value);
    } else {
      this.overflowed.push(key);
      this.drop(key);
    }
  }

  /** Lists a field name in `droppedFields` (once, and only while the list has room). */
  drop(name: string): void {
    const key = extraKey(name);
    if (!this.dropped.includes(key) && this.dropped.length < MAX_DROPPED_FIELDS) this.dropped.push(key);
  }
}
