import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z as zod } from 'zod';
import { REPO_ROOT } from '../../infra/lib/paths';
import { defaultProvider } from '../../shared/runtime/lambda-credentials';
import { z as lean } from '../../shared/runtime/zod';

/** Every `.ts` file of the folders that end up in a function's bundle. */
function bundledSources(): string[] {
  return ['functions', 'shared'].flatMap((dir) =>
    readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
      // The lean namespace itself names what it leaves out.
      .filter((f) => f.endsWith('.ts') && !f.startsWith(join('runtime', 'zod')))
      .map((f) => join(REPO_ROOT, dir, f)),
  );
}

/** A few of the classic methods the lean zod adds (see `CLASSIC_METHODS`). */
const CLASSIC_SAMPLE = { optional: 1, min: 1, refine: 1, transform: 1, default: 1 };

describe('the zod the bundles use instead of the package (shared/runtime/zod)', () => {
  it('has every member of `z` that the functions and shared code use', () => {
    const used = new Set<string>();
    for (const file of bundledSources()) {
      // `z.output<…>` and `z.input<…>` name types (zod also has functions of those names).
      for (const match of readFileSync(file, 'utf8').matchAll(/\bz\.([A-Za-z_$][\w$]*)(?!\s*<|[\w$])/g)) {
        if (match[1]) used.add(match[1]);
      }
    }
    // Type-only members (`z.infer`, `z.output`...) have no value in either namespace.
    const values = [...used].filter((name) => (zod as Record<string, unknown>)[name] !== undefined);
    expect(values.length).toBeGreaterThan(10);
    const missing = values.filter((name) => (lean as Record<string, unknown>)[name] === undefined);
    expect(missing, 'add them to shared/runtime/zod/namespace.ts').toEqual([]);
  });

  it('is zod/mini with the classic methods: same results, same English messages', () => {
    const schemas = (z: typeof zod) =>
      z
        .object({
          name: z.string().trim().min(1).max(5),
          count: z.number().int().nonnegative().optional(),
          kind: z.enum(['a', 'b']).default('a'),
          emails: z.array(z.string().email()).max(2).default([]),
          at: z.iso.datetime().optional(),
          site: z.string().url().nullish(),
          code: z
            .string()
            .regex(/^[A-Z]+$/)
            .refine((v) => v !== 'NO', { message: 'not NO' })
            .optional(),
        })
        .loose();
    const real = schemas(zod);
    const lite = schemas(lean as unknown as typeof zod);
    const good = { name: ' ana ', extra: 1, site: null };
    expect(lite.parse(good)).toEqual(real.parse(good));
    const bad = { name: '', count: -1.5, emails: ['nope'], site: 'x', code: 'NO', at: 'yesterday' };
    const issues = (r: { error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
      r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues(lite.safeParse(bad))).toEqual(issues(real.safeParse(bad)));
    expect(issues(lite.safeParse(bad))).toContain('name: Too small: expected string to have >=1 characters');
    // Callers test `instanceof z.ZodError` to turn a parse failure into a 4xx naming the field.
    expect(() => lite.parse(bad)).toThrow(lean.ZodError as unknown as typeof Error);
    expect(lean.string).not.toBe(zod.string);
    expect((lean as Record<string, unknown>).locales).toBeUndefined();
    expect((lean as Record<string, unknown>).toJSONSchema).toBeUndefined();
  });

  it('puts the classic methods on each schema type once, not on every schema it builds', () => {
    // Copying ~60 bound methods onto every schema made building the catalogue and the config
    // schemas most of a function's import time; a schema now owns only what it has used.
    const z = lean as unknown as typeof zod;
    const name = z.string();
    const own = Object.getOwnPropertyNames(name).filter((key) => key in CLASSIC_SAMPLE);
    expect(own).toEqual([]);
    const proto = Object.getPrototypeOf(name) as object;
    expect(Object.getOwnPropertyNames(proto)).toEqual(expect.arrayContaining(Object.keys(CLASSIC_SAMPLE)));
    // Bound on first read, as zod's own members are: a detached method still knows its schema.
    const { optional } = z.string().min(2);
    expect(optional().safeParse(undefined).success).toBe(true);
    expect(optional().safeParse('a').success).toBe(false);
    // Every type gets them, clones and objects included.
    const lead = z.object({ email: z.string().email() }).partial().strict();
    expect(lead.safeParse({ email: 'ana@example.com' }).success).toBe(true);
    expect(lead.safeParse({ other: 1 }).success).toBe(false);
    expect(z.number().int().nonnegative().default(0).parse(undefined)).toBe(0);
  });
});

describe('the credential chain the bundles use (shared/runtime/lambda-credentials)', () => {
  it('reads the execution role credentials Lambda puts in the environment, once', async () => {
    const saved = { ...process.env };
    try {
      process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
      process.env.AWS_SECRET_ACCESS_KEY = 'secret';
      process.env.AWS_SESSION_TOKEN = 'token';
      const provider = defaultProvider();
      const first = await provider();
      expect(first).toMatchObject({
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'secret',
        sessionToken: 'token',
      });
      process.env.AWS_ACCESS_KEY_ID = 'CHANGED';
      expect((await provider()).accessKeyId).toBe('AKIDEXAMPLE');
    } finally {
      process.env = saved;
    }
  });

  it('fails with the SDK error when the environment has no credentials, and tries again next time', async () => {
    const saved = { ...process.env };
    try {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      const provider = defaultProvider();
      await expect(provider()).rejects.toThrow(/credentials/i);
      process.env.AWS_ACCESS_KEY_ID = 'AKIDLATER';
      process.env.AWS_SECRET_ACCESS_KEY = 'secret';
      expect((await provider()).accessKeyId).toBe('AKIDLATER');
    } finally {
      process.env = saved;
    }
  });
});
