/**
 * Builds the function bundles of a synthesized app for the offline runtime (see `synth.ts`).
 *
 * A deploy's `cdk synth` bundles each function in turn through `npx esbuild` (about 2 s each,
 * 30 s for the stack) and runs cdk-nag and CloudFormation validation (6 s more). Here the app is
 * synthesized with bundling skipped and the checks off, then every function is bundled at once
 * with esbuild's API, from the entry and options its {@link LeadFunction} declares, into the
 * asset folder its template names. The templates and the bundles are the ones a deploy gets;
 * only the order of work differs.
 */
import { exec } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { type BuildOptions, build } from 'esbuild';
import { LeadFunction } from '../infra/constructs/lead-function';
import { REPO_ROOT } from '../infra/lib/paths';

/**
 * The esbuild options `NodejsFunction` derives from `bundling` (its `buildEsbuildArgs`), for the
 * options {@link LeadFunction} uses. Any other option throws rather than being silently dropped,
 * so a new bundling option in `infra/` cannot make the local bundle differ from the deployed one.
 */
export function esbuildOptions(bundling: BundlingOptions): BuildOptions {
  const handled = new Set([
    'format',
    'minify',
    'sourceMap',
    'target',
    'mainFields',
    'banner',
    'define',
    'externalModules',
    'esbuildArgs', // `--alias:<package>` only, checked below.
    'commandHooks', // Run by bundleFunctions, as CDK runs them.
    'forceDockerBundling', // Where CDK bundles (Docker or not) does not change the output.
  ]);
  const unknown = Object.keys(bundling).filter(
    (key) => !handled.has(key) && bundling[key as keyof BundlingOptions] !== undefined,
  );
  if (unknown.length > 0) {
    throw new Error(
      `local/bundle.ts does not build the bundling option(s) ${unknown.join(', ')} yet: map them in esbuildOptions() as NodejsFunction does`,
    );
  }
  const alias: Record<string, string> = {};
  for (const [arg, value] of Object.entries(bundling.esbuildArgs ?? {})) {
    const name = arg.startsWith('--alias:') ? arg.slice('--alias:'.length) : undefined;
    if (!name || typeof value !== 'string') {
      throw new Error(
        `local/bundle.ts does not build the esbuild argument ${arg} yet: map it in esbuildOptions()`,
      );
    }
    alias[name] = value;
  }
  const esm = bundling.format === OutputFormat.ESM;
  return {
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: 'node',
    target: bundling.target ?? 'node22',
    format: bundling.format === undefined ? undefined : esm ? 'esm' : 'cjs',
    // NodejsFunction writes `index.mjs` for ESM, `index.js` otherwise.
    outExtension: { '.js': esm ? '.mjs' : '.js' },
    minify: bundling.minify ?? false,
    sourcemap: bundling.sourceMap ?? false,
    // NodejsFunction's default when `externalModules` is unset: the runtime's AWS SDK.
    external: [...(bundling.externalModules ?? ['@aws-sdk/*'])],
    define: { ...bundling.define },
    banner: bundling.banner ? { js: bundling.banner } : undefined,
    mainFields: bundling.mainFields ? [...bundling.mainFields] : undefined,
    ...(Object.keys(alias).length > 0 ? { alias } : {}),
    logLevel: 'warning',
  };
}

const run = promisify(exec);

/**
 * Bundles every {@link LeadFunction} of a synthesized app into the asset folder its template
 * names (`<outdir>/asset.<hash>/index.mjs`). The app must have been synthesized with bundling
 * skipped (context `aws:cdk:bundling-stacks: []`), which leaves those folders empty.
 *
 * Functions with the same options (all of one client's, in practice) share one esbuild build
 * with one entry point each: esbuild then parses the AWS SDK and `shared/` once, not once per
 * function, and each output is still the complete bundle that function would get on its own.
 */
export async function bundleFunctions(app: Construct, outdir: string): Promise<number> {
  const functions = app.node.findAll().filter((c): c is LeadFunction => c instanceof LeadFunction);
  const groups = new Map<string, { options: BuildOptions; entryPoints: Record<string, string> }>();
  const afterBundling: string[] = [];
  for (const f of functions) {
    const code = Stack.of(f).resolve((f.fn.node.defaultChild as CfnFunction).code) as {
      s3Key?: unknown;
    };
    if (typeof code.s3Key !== 'string') throw new Error(`${f.node.path}: no asset key in the template`);
    const options = esbuildOptions(f.bundling);
    const key = JSON.stringify(options);
    const group = groups.get(key) ?? { options, entryPoints: {} };
    const assetDir = `asset.${code.s3Key.replace(/\.zip$/, '')}`;
    group.entryPoints[`${assetDir}/index`] = f.entry;
    groups.set(key, group);
    const hooks = f.bundling.commandHooks?.afterBundling(REPO_ROOT, join(outdir, assetDir)) ?? [];
    if (hooks.length > 0) afterBundling.push(hooks.join(' && '));
  }
  await Promise.all(
    [...groups.values()].map(({ options, entryPoints }) => build({ ...options, entryPoints, outdir })),
  );
  // The commands CDK runs after esbuild in each asset folder (local bundling runs them in bash).
  await Promise.all(afterBundling.map((command) => run(command, { cwd: REPO_ROOT, shell: 'bash' })));
  return functions.length;
}
