import { DEFAULT_MAX_EXTRA_FIELDS, MAX_DROPPED_FIELDS } from './extra-fields';
import type { LeadProfile } from './lead';

/**
 * Merging a resubmission into a stored profile without overwriting what the lead already has,
 * and accepting submitted details a rep chose to apply.
 */

// ---------------------------------------------------------------------------------------------
// mergeProfiles

/** Profile fields that travel with the email: only taken from an incoming profile that has one. */
const EMAIL_DERIVED = ['isFreeMail', 'isDisposable'] as const;
/** Fields that travel with the phone number. */
const PHONE_DERIVED = ['phoneValid', 'phoneCountry', 'phoneRaw'] as const;

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/**
 * Values a resubmission offered that differ from what the lead already has: never applied by
 * intake, kept on the lead's timeline (a `details_submitted` activity) until its owner accepts
 * them ({@link acceptSubmittedDetails}). A value travels with the fields derived from it: a
 * phone with `phoneValid` / `phoneCountry`, an email with `isFreeMail` / `isDisposable`.
 */
export type SubmittedDetails = Partial<Omit<LeadProfile, 'dedupeKey' | 'droppedFields'>>;

/** Outcome of {@link mergeProfiles}. */
export interface ProfileMerge {
  /** The stored profile with its blanks filled. */
  readonly profile: LeadProfile;
  /** Fields that were blank and are now filled (`extra` and `droppedFields` count as one each). */
  readonly changed: string[];
  /** Submitted values that contradict stored ones; empty when there are none. */
  readonly conflicts: SubmittedDetails;
}

/**
 * Merges a resubmission into a stored lead's profile (dedupe hit).
 *
 * A resubmission only fills blanks: forms are public, so anyone who knows a person's address
 * could otherwise replace their phone, name, company or title (reps would call the wrong number
 * and the fit score would change). A non-empty value that differs from a stored one is returned
 * in `conflicts` instead, for the lead's owner to accept. Empty or absent incoming values never
 * erase stored ones. `isFreeMail` / `isDisposable` follow the email and `phoneValid` /
 * `phoneCountry` follow the phone, as a group: filled together or offered together. `dedupeKey`
 * never changes: it is the stored lead's identity, and the caller decides whether to index the
 * incoming key as well. `extra` keys fill in the same way under `maxExtraFields`; keys that no
 * longer fit join `droppedFields`.
 *
 * @returns the merged profile (inputs are not modified), the filled fields and the conflicts.
 */
export function mergeProfiles(
  existing: LeadProfile,
  incoming: LeadProfile,
  maxExtraFields: number = DEFAULT_MAX_EXTRA_FIELDS,
): ProfileMerge {
  const merged: Record<string, unknown> = { ...existing };
  const conflicts: Record<string, unknown> = {};
  const changed: string[] = [];
  const groups: Record<string, readonly string[]> = { email: EMAIL_DERIVED, phone: PHONE_DERIVED };
  const skip = new Set<string>(['dedupeKey', 'extra', 'droppedFields', ...EMAIL_DERIVED, ...PHONE_DERIVED]);

  for (const [field, value] of Object.entries(incoming)) {
    if (skip.has(field) || isBlank(value) || merged[field] === value) continue;
    const derived = groups[field] ?? [];
    if (isBlank(merged[field])) {
      merged[field] = value;
      changed.push(field);
      for (const d of derived) {
        const incomingValue = incoming[d as keyof LeadProfile];
        if (merged[d] === incomingValue) continue;
        // A new number without a country (invalid) must not inherit another number's country.
        if (incomingValue === undefined) delete merged[d];
        else merged[d] = incomingValue;
        changed.push(d);
      }
    } else {
      conflicts[field] = value;
      for (const d of derived) {
        const incomingValue = incoming[d as keyof LeadProfile];
        if (incomingValue !== undefined) conflicts[d] = incomingValue;
      }
    }
  }

  const extra = new Map(Object.entries(existing.extra));
  const extraConflicts: Record<string, string> = {};
  const dropped = [...existing.droppedFields];
  let extraChanged = false;
  for (const [key, value] of Object.entries(incoming.extra)) {
    if (isBlank(value) || extra.get(key) === value) continue;
    if (extra.has(key) && !isBlank(extra.get(key))) extraConflicts[key] = value;
    else if (extra.has(key) || extra.size < maxExtraFields) {
      extra.set(key, value);
      extraChanged = true;
    } else if (!dropped.includes(key) && dropped.length < MAX_DROPPED_FIELDS) {
      dropped.push(key);
    }
  }
  for (const key of incoming.droppedFields) {
    if (!dropped.includes(key) && dropped.length < MAX_DROPPED_FIELDS) dropped.push(key);
  }
  if (extraChanged) {
    merged.extra = Object.fromEntries(extra);
    changed.push('extra');
  }
  if (dropped.length !== existing.droppedFields.length) {
    merged.droppedFields = dropped;
    changed.push('droppedFields');
  }
  if (Object.keys(extraConflicts).length > 0) conflicts.extra = extraConflicts;
  return { profile: merged as LeadProfile, changed, conflicts: conflicts as SubmittedDetails };
}

/**
 * Applies submitted details a lead's owner accepted: each value replaces the stored one, with
 * the fields derived from it (a phone without a country drops the old number's country), and
 * `extra` keys replace theirs. `dedupeKey` and `droppedFields` are never touched.
 *
 * @returns the new profile (inputs are not modified) and the fields whose value changed.
 */
export function acceptSubmittedDetails(
  existing: LeadProfile,
  details: SubmittedDetails,
): { profile: LeadProfile; changed: string[] } {
  const merged: Record<string, unknown> = { ...existing };
  const changed: string[] = [];
  const set = (field: string, value: unknown) => {
    if (merged[field] === value) return;
    if (value === undefined) delete merged[field];
    else merged[field] = value;
    changed.push(field);
  };
  for (const [field, value] of Object.entries(details)) {
    if (field === 'extra' || field === 'dedupeKey' || field === 'droppedFields' || isBlank(value)) continue;
    set(field, value);
  }
  if (!isBlank(details.phone) && !('phoneCountry' in details)) set('phoneCountry', undefined);
  const extra = { ...existing.extra };
  let extraChanged = false;
  for (const [key, value] of Object.entries(details.extra ?? {})) {
    if (isBlank(value) || extra[key] === value) continue;
    extra[key] = value;
    extraChanged = true;
  }
  if (extraChanged) {
    merged.extra = extra;
    changed.push('extra');
  }
  return { profile: merged as LeadProfile, changed };
}
