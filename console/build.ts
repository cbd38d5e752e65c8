import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, buildSync } from 'esbuild';

/**
 * Bundles the console into a handful of static files: `index.html`, `app.js`, `app.css`. The
 * same files are served by `npm start` and uploaded to S3 by the deploy; `config.json` is
 * written next to them by whoever serves them.
 */

const here = dirname(fileURLToPath(import.meta.url));

/** A built file: its path under the site root and its bytes. */
export interface ConsoleFile {
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
}

const OPTIONS: BuildOptions = {
  entryPoints: { app: join(here, 'src/app.tsx') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  write: false,
  outdir: '/out',
  legalComments: 'none',
  logLevel: 'silent',
  define: { 'process.env.NODE_ENV': '"production"' },
  entryNames: '[name]',
};

function siteFiles(outputs: ReadonlyArray<{ path: string; contents: Uint8Array }>): ConsoleFile[] {
  const files: ConsoleFile[] = [
    {
      path: 'index.html',
      contentType: 'text/html; charset=utf-8',
      body: readFileSync(join(here, 'index.html')),
    },
    {
      path: 'app.css',
      contentType: 'text/css; charset=utf-8',
      body: readFileSync(join(here, 'src/app.css')),
    },
  ];
  for (const out of outputs) {
    const name = out.path.replace(/^.*\//, '');
    if (name.endsWith('.js'))
      files.push({
        path: name,
        contentType: 'text/javascript; charset=utf-8',
        body: Buffer.from(out.contents),
      });
  }
  return files;
}

/** Builds the console in memory (minified, no source maps shipped: the first load stays small). */
export async function buildConsole(): Promise<ConsoleFile[]> {
  return siteFiles((await build(OPTIONS)).outputFiles ?? []);
}

/** Builds the console into `outDir` (for the deploy's asset; CDK synthesis is synchronous). */
export function buildConsoleInto(outDir: string): ConsoleFile[] {
  const files = siteFiles(buildSync(OPTIONS).outputFiles ?? []);
  mkdirSync(outDir, { recursive: true });
  for (const file of files) writeFileSync(join(outDir, file.path), file.body);
  return files;
}
