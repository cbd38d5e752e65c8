import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { javaScriptSize } from '../../../bench/cold-start';

describe('the bundle size the cold-start table reports', () => {
  it('counts every .mjs file of the asset, chunks included, and not the source map or data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-size-'));
    writeFileSync(join(dir, 'index.mjs'), 'x'.repeat(1000));
    writeFileSync(join(dir, 'chunk-import.mjs'), 'y'.repeat(300));
    mkdirSync(join(dir, 'chunks'));
    writeFileSync(join(dir, 'chunks', 'csv.mjs'), 'z'.repeat(200));
    writeFileSync(join(dir, 'index.mjs.map'), 'm'.repeat(5000));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'phone-metadata.json.br'), 'd'.repeat(700));
    expect(javaScriptSize(dir)).toBe(1500);
  });
});
