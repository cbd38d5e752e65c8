import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceFingerprint } from '../../../local/runtime';

/** A checkout without `.git` (like a downloaded archive) holding a few synth inputs. */
function checkout(): string {
  const root = mkdtempSync(join(tmpdir(), 'fingerprint-'));
  mkdirSync(join(root, 'functions', 'capture'), { recursive: true });
  mkdirSync(join(root, 'clients'), { recursive: true });
  mkdirSync(join(root, 'README-only'), { recursive: true });
  writeFileSync(join(root, 'functions', 'capture', 'handler.ts'), 'export const handler = 1;');
  writeFileSync(join(root, 'clients', 'example.yaml'), 'client: {}');
  writeFileSync(join(root, 'package-lock.json'), '{}');
  return root;
}

describe('the offline runtime reuses a synthesized stack only while its inputs are unchanged', () => {
  it('is stable for the same files, and differs per client', () => {
    const root = checkout();
    expect(sourceFingerprint('example', root)).toBe(sourceFingerprint('example', root));
    expect(sourceFingerprint('acme', root)).not.toBe(sourceFingerprint('example', root));
  });

  it('changes when a handler, a client file or the lockfile changes, or a file appears', () => {
    const root = checkout();
    const seen = new Set([sourceFingerprint('example', root)]);
    const edits: Array<[string, string]> = [
      [join(root, 'functions', 'capture', 'handler.ts'), 'export const handler = 2;'],
      [join(root, 'clients', 'example.yaml'), 'client: { name: example }'],
      [join(root, 'package-lock.json'), '{"lockfileVersion":3}'],
      [join(root, 'tsconfig.json'), '{"compilerOptions":{}}'],
      [join(root, 'functions', 'capture', 'pages.ts'), 'export {};'],
    ];
    for (const [file, text] of edits) {
      writeFileSync(file, text);
      const next = sourceFingerprint('example', root);
      expect(seen.has(next)).toBe(false);
      seen.add(next);
    }
  });

  it('ignores files outside the synth inputs', () => {
    const root = checkout();
    const before = sourceFingerprint('example', root);
    writeFileSync(join(root, 'README-only', 'notes.md'), 'not an input');
    expect(sourceFingerprint('example', root)).toBe(before);
    // Nor do an editor's swap and backup files next to the inputs.
    writeFileSync(join(root, 'functions', 'capture', '.handler.ts.swp'), 'swap');
    writeFileSync(join(root, 'functions', 'capture', 'handler.ts~'), 'backup');
    expect(sourceFingerprint('example', root)).toBe(before);
  });
});
