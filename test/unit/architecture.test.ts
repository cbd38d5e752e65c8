import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The import rules of the README's "Architecture" section, checked on every import of every
 * source file (type-only imports included: a port declared in an adapter file is still an arrow
 * pointing outward). Each broken rule is reported as `file → import: why`.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const SOURCE_DIRS = ['shared', 'functions', 'infra', 'local', 'bench'];

type Layer =
  | 'domain'
  | 'config'
  | 'contracts'
  | 'ports'
  | 'services'
  | 'adapters'
  | 'http'
  | 'events'
  | 'runtime'
  | 'infra';

/** The layer a repository path belongs to, by folder; undefined for layers without rules. */
function layerOf(path: string): Layer | undefined {
  const posix = path.split(sep).join('/');
  const shared = /^shared\/(domain|config|contracts|ports|services|adapters|http|events|runtime)\//.exec(
    posix,
  );
  if (shared) return shared[1] as Layer;
  if (posix.startsWith('infra/')) return 'infra';
  return undefined;
}

/** Packages that talk to AWS, HTTP or Lambda: never imported by the domain, config, ports or services. */
const PLATFORM_PACKAGE =
  /^(@aws-sdk\/|@smithy\/|aws-lambda$|@aws-lambda-powertools\/|@middy\/|aws-cdk-lib|constructs$)/;

/**
 * What each layer may not import. The domain may import the client-configuration model
 * (`shared/config`): the client file is the domain's parameters (its rules, reps, SLAs) and the
 * config layer is itself held to pure imports below.
 */
const RULES: ReadonlyArray<{ from: Layer; forbidden: (target: Layer | undefined) => boolean; why: string }> =
  [
    {
      from: 'domain',
      forbidden: (target) => target !== undefined && target !== 'domain' && target !== 'config',
      why: 'the domain imports only the domain (and the client-configuration model)',
    },
    {
      from: 'config',
      forbidden: (target) =>
        target === 'services' || target === 'adapters' || target === 'http' || target === 'runtime',
      why: 'config imports no services, adapters, HTTP or runtime modules',
    },
    {
      from: 'contracts',
      forbidden: (target) =>
        target === 'services' ||
        target === 'adapters' ||
        target === 'http' ||
        target === 'runtime' ||
        target === 'infra',
      why: 'contracts shared by the stack and the functions import no services, adapters, HTTP, runtime or infra modules',
    },
    {
      from: 'services',
      forbidden: (target) => target === 'adapters' || target === 'infra',
      why: 'services use ports (shared/ports), never adapter modules',
    },
    {
      from: 'ports',
      forbidden: (target) => target === 'adapters' || target === 'services',
      why: 'ports are implemented by adapters and used by services, not the other way round',
    },
    {
      from: 'infra',
      forbidden: (target) => target === 'adapters' || target === 'services',
      why: 'infra shares neutral modules with the runtime, never adapters or services',
    },
  ];

/** Layers that must not import platform packages (AWS SDK, Lambda types, Powertools, middy, CDK). */
const PURE_LAYERS: ReadonlySet<Layer> = new Set(['domain', 'config', 'contracts', 'ports', 'services']);

/** Every `.ts`/`.tsx` file under the source folders (tests excluded: they may reach anywhere). */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.') || entry.name === 'cdk.out') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(path);
    }
  };
  for (const dir of SOURCE_DIRS) walk(join(ROOT, dir));
  return files;
}

/** Removes comments (keeping string and template contents) so commented-out imports don't count. */
function stripComments(source: string): string {
  return source.replace(
    /\/\*[\s\S]*?\*\/|(?<![:'"`\\])\/\/[^\n]*|('(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")/g,
    (match, string) => (string === undefined ? '' : match),
  );
}

/**
 * The module specifiers a file imports: static `import`/`export … from` (type-only included,
 * over several lines), side-effect imports, dynamic `import()` and `require()`.
 */
function importsOf(source: string): string[] {
  const code = stripComments(source);
  const specifiers: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) if (match[1]) specifiers.push(match[1]);
  }
  return specifiers;
}

/** Every broken rule in the given files, as `file → import: why`. */
function violations(
  files: readonly string[],
  read: (file: string) => string = (f) => readFileSync(f, 'utf8'),
) {
  const found: string[] = [];
  for (const file of files) {
    const path = relative(ROOT, file);
    const from = layerOf(path);
    if (!from) continue;
    for (const specifier of importsOf(read(file))) {
      if (specifier.startsWith('.')) {
        const target = layerOf(`${relative(ROOT, resolve(dirname(file), specifier))}/`);
        for (const rule of RULES) {
          if (rule.from !== from || !rule.forbidden(target)) continue;
          found.push(`${path} → ${specifier}: ${rule.why}`);
        }
      } else if (PURE_LAYERS.has(from) && PLATFORM_PACKAGE.test(specifier)) {
        found.push(`${path} → ${specifier}: ${from} imports no AWS, Lambda, middleware or CDK package`);
      }
    }
  }
  return found;
}

/**
 * Block Kit's text objects (`mrkdwn`, `plain_text`) in a domain file: the domain would be
 * rendering for Slack. It states facts; the Slack adapter renders them.
 */
const BLOCK_KIT = /['"](mrkdwn|plain_text)['"]/;

/** Every domain file that writes a Block Kit text object, as `file: line`. */
function presentationInDomain(
  files: readonly string[],
  read: (file: string) => string = (f) => readFileSync(f, 'utf8'),
): string[] {
  const found: string[] = [];
  for (const file of files) {
    const path = relative(ROOT, file);
    if (layerOf(path) !== 'domain') continue;
    stripComments(read(file))
      .split('\n')
      .forEach((line, i) => {
        if (BLOCK_KIT.test(line)) found.push(`${path}:${i + 1}`);
      });
  }
  return found;
}

describe('import rules', () => {
  it('finds the imports of a file, type-only and multi-line included, ignoring comments', () => {
    const source = [
      "import type { Mailer } from '../adapters/mailer';",
      'import {',
      '  a,',
      '  b,',
      "} from '../domain/x';",
      "export { c } from './c';",
      "// import { d } from '../adapters/d';",
      "const lazy = () => import('../services/e');",
      "import './side-effect';",
      "const url = 'https://example.com'; import { f } from '../http/f';",
    ].join('\n');
    expect(importsOf(source)).toEqual([
      '../adapters/mailer',
      '../domain/x',
      './c',
      './side-effect',
      '../services/e',
    ]);
  });

  it('names the file, the import and the rule for each kind of outward arrow', () => {
    const files: Record<string, string> = {
      [join(ROOT, 'shared/domain/a.ts')]:
        "import { escapeHtml } from '../http/api';\nimport type { C } from '../config/schema';",
      [join(ROOT, 'shared/config/b.ts')]: "import { x } from '../services/leads';",
      [join(ROOT, 'shared/services/c.ts')]:
        "import type { Mailer } from '../adapters/mailer';\nimport { y } from '@aws-sdk/client-sesv2';",
      [join(ROOT, 'shared/ports/d.ts')]: "import type { Z } from '../adapters/z';",
      [join(ROOT, 'infra/lib/e.ts')]: "import { INDEXES } from '../../shared/adapters/table-design';",
      [join(ROOT, 'shared/contracts/g.ts')]: "import { X } from '../adapters/x';",
      [join(ROOT, 'shared/adapters/f.ts')]:
        "import type { Mailer } from '../ports/mail';\nimport { S } from '@aws-sdk/client-sesv2';",
    };
    const found = violations(Object.keys(files), (file) => files[file] ?? '');
    expect(found).toEqual([
      'shared/domain/a.ts → ../http/api: the domain imports only the domain (and the client-configuration model)',
      'shared/config/b.ts → ../services/leads: config imports no services, adapters, HTTP or runtime modules',
      'shared/services/c.ts → ../adapters/mailer: services use ports (shared/ports), never adapter modules',
      'shared/services/c.ts → @aws-sdk/client-sesv2: services imports no AWS, Lambda, middleware or CDK package',
      'shared/ports/d.ts → ../adapters/z: ports are implemented by adapters and used by services, not the other way round',
      'infra/lib/e.ts → ../../shared/adapters/table-design: infra shares neutral modules with the runtime, never adapters or services',
      'shared/contracts/g.ts → ../adapters/x: contracts shared by the stack and the functions import no services, adapters, HTTP, runtime or infra modules',
    ]);
  });

  it('holds for every source file', () => {
    const files = sourceFiles();
    // The walk must see the layers it judges, or an empty list would pass for the wrong reason.
    expect(files.some((f) => layerOf(relative(ROOT, f)) === 'domain')).toBe(true);
    expect(files.some((f) => layerOf(relative(ROOT, f)) === 'services')).toBe(true);
    expect(violations(files)).toEqual([]);
  });

  it('finds Block Kit text objects in the domain, and only there', () => {
    const files: Record<string, string> = {
      [join(ROOT, 'shared/domain/a.ts')]: "const ok = 1;\nconst t = { type: 'mrkdwn', text: 'x' };",
      [join(ROOT, 'shared/domain/b.ts')]: "// { type: 'plain_text' } in a comment\nconst b = 2;",
      [join(ROOT, 'shared/adapters/c.ts')]: "const t = { type: 'plain_text', text: 'x' };",
    };
    expect(presentationInDomain(Object.keys(files), (file) => files[file] ?? '')).toEqual([
      'shared/domain/a.ts:2',
    ]);
  });

  it('keeps Slack Block Kit out of the domain', () => {
    expect(presentationInDomain(sourceFiles())).toEqual([]);
  });
});
