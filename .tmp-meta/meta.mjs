import { build } from 'esbuild';
import { join } from 'node:path';
const root = '/work/main';
const name = process.argv[2];
const r = await build({
  entryPoints: [join(root, 'functions', name, 'handler.ts')], bundle: true, platform: 'node', format: 'esm',
  minify: true, target: 'node22', mainFields: ['module', 'main'], write: false, metafile: true, outfile: '/tmp/x.mjs',
  define: { __CLIENT_CONFIG__: '"{}"', __CLIENT_CONFIG_SHA256__: '"x"' },
  alias: { zod: join(root, 'shared/runtime/zod/index.ts'), '@aws-sdk/credential-provider-node': join(root, 'shared/runtime/lambda-credentials.ts') },
  logLevel: 'error',
});
const out = Object.values(r.metafile.outputs)[0];
const by = {};
for (const [f, v] of Object.entries(out.inputs)) {
  const m = f.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  const k = m ? m[1] : f.split('/').slice(0, 2).join('/');
  by[k] = (by[k] ?? 0) + v.bytesInOutput;
}
console.log(name, 'total', Math.round(out.bytes / 1024), 'KB');
for (const [k, v] of Object.entries(by).sort((a, b) => b[1] - a[1]).slice(0, 18)) console.log(String(Math.round(v / 1024)).padStart(5), k);
