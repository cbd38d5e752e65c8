import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDomainData } from '../../infra/lib/domain-data';
import { REPO_ROOT } from '../../infra/lib/paths';
import { readDataFile, SortedLines } from '../../shared/domain/bundled-data';

describe('bundled data files (shared/domain/data)', () => {
  it('are what `npm run build:data` builds from the installed packages', () => {
    for (const [file, bytes] of Object.entries(buildDomainData())) {
      const committed = readFileSync(join(REPO_ROOT, 'shared', 'domain', 'data', file));
      expect(committed.equals(bytes), `${file} is stale: run npm run build:data`).toBe(true);
    }
  }, 60_000);

  it('hold the lists sorted, one domain a line', () => {
    const lines = readDataFile('disposable-domains.txt.br').split('\n');
    expect(lines.length).toBeGreaterThan(50_000);
    expect(lines).toContain('mailinator.com');
    expect([...lines].sort()).toEqual(lines);
  });
});

describe('SortedLines', () => {
  it('answers membership like a Set', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom('a', 'b', 'c', '.', '-') }),
        ),
        fc.string({ maxLength: 6, unit: fc.constantFrom('a', 'b', 'c', '.', '-') }),
        (values, probe) => {
          const sorted = [...values].sort();
          const list = new SortedLines(sorted.join('\n'));
          for (const v of sorted) expect(list.has(v)).toBe(true);
          expect(list.has(probe)).toBe(sorted.includes(probe));
        },
      ),
    );
  });
});
