import { readFileSync } from 'node:fs';
import { brotliDecompressSync } from 'node:zlib';

/**
 * Reference data too large to live in code: the disposable and free-mail domain lists and the
 * phone-number metadata, each stored once, compact (Brotli), in `shared/domain/data/`.
 *
 * The files are built from the pinned npm packages by `npm run build:data` (a unit test fails
 * when they no longer match the installed packages). A function's bundle carries a file only
 * when its code can reach the loader that names it: the bundling step copies `data/<file>`
 * next to `index.mjs` when the bundle contains the file's name (see `LeadFunction`), so a
 * function that never looks up a domain does not ship, load or parse 1 MB of domains. Each file
 * is read on first use, never at import.
 */

/** The text of a data file (`data/<file>`, next to this module or to the bundle). */
export function readDataFile(file: string): string {
  return brotliDecompressSync(readFileSync(new URL(`./data/${file}`, import.meta.url))).toString('utf8');
}

/**
 * Membership in a sorted, newline-separated list, by binary search over the text itself: no
 * array or set of 56,000 strings to build at cold start, and a lookup touches ~16 lines.
 * The lines must be sorted in JavaScript's default (UTF-16 code unit) order.
 */
export class SortedLines {
  constructor(private readonly text: string) {}

  /** Whether `value` is one of the lines. */
  has(value: string): boolean {
    const { text } = this;
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const start = text.lastIndexOf('\n', mid - 1) + 1;
      const newline = text.indexOf('\n', start);
      const end = newline < 0 ? text.length : newline;
      const line = text.slice(start, end);
      if (line === value) return true;
      if (line < value) lo = end + 1;
      else hi = start;
    }
    return false;
  }
}
