/**
 * Renders a validation issue's path as `reps[2].timezone`: the field a config problem or a 4xx
 * names. In a module of its own, with no imports, so code that only names fields (the tracking
 * input's checks) does not pull the whole client-config schema into a function's bundle and
 * build it at import.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}
