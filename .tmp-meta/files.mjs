import { build } from 'esbuild';
import { join } from 'node:path';
const root = '/work/main';
const [name, pkg] = process.argv.slice(2);
const r = await build({
  entryPoints: [join(root, 'functions', name, 'handler.ts')], bundle: true, platform: 'node', format: 'esm',
  minify: true, target: 'node22', mainFields: ['module', 'main'], write: false, metafile: true, outfile: '/tmp/x.mjs',
  define: { __CLIENT_CONFIG__: '"{}"', __CLIENT_CONFIG_SHA256__: '"x"' },
  alias: { zod: join(root, 'shared/runtime/zod/index.ts'), '@aws-sdk/credential-provider-node': join(root, 'shared/runtime/lambda-credentials.ts') },
  logLevel: 'error',
});
const out = Object.values(r.metafile.outputs)[0];
const rows = Object.entries(out.inputs).filter(([f]) => f.includes(pkg)).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput);
for (const [f, v] of rows.slice(0, 25)) console.log(String(Math.round(v.bytesInOutput / 1024 * 10) / 10).padStart(6), f.replace(/.*node_modules\//, ''));
