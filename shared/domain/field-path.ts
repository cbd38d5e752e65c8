/**
 * Paths into a posted JSON body, as the generic webhook's field map writes them.
 *
 * A path is either text, with `.` between segments (`contact.email`, `contacts.0.phone`), or a
 * list of segments. Keys that contain dots themselves (Gravity Forms' input ids `1.3`, `4.1`)
 * are written with an escaped dot (`1\.3`, `entry.1\.3`) or as a list (`["1.3"]`,
 * `[entry, "1.3"]`); `\\` is a literal backslash. A number segment indexes a list, or names
 * an object key of those digits.
 */

/** A field-map path: dotted text, or its segments. */
export type FieldPath = string | readonly string[];

/** The segments of a path, or why it cannot be read. */
export type FieldPathReading =
  | { readonly ok: true; readonly segments: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/** Splits a path into its segments (see the module comment for the syntax). */
export function fieldPathSegments(path: FieldPath): FieldPathReading {
  if (typeof path !== 'string') {
    if (path.length === 0) return { ok: false, reason: 'a path needs at least one segment' };
    const empty = path.indexOf('');
    return empty >= 0
      ? { ok: false, reason: `segment ${empty} is empty` }
      : { ok: true, segments: [...path] };
  }
  const segments: string[] = [];
  let current = '';
  for (let i = 0; i < path.length; i++) {
    const char = path[i];
    if (char === '\\') {
      const next = path[i + 1];
      if (next !== '.' && next !== '\\') {
        return {
          ok: false,
          reason: `"\\" must be followed by "." (a dot inside a key, as in 1\\.3) or "\\", at character ${i + 1}`,
        };
      }
      current += next;
      i++;
    } else if (char === '.') {
      segments.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  segments.push(current);
  const empty = segments.indexOf('');
  if (empty >= 0) {
    return {
      ok: false,
      reason: `segment ${empty + 1} of "${path}" is empty; write a dot inside a key as "\\." (1\\.3) or the path as a list (["1.3"])`,
    };
  }
  return { ok: true, segments };
}
