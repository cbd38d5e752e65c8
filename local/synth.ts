/**
 * Synthesizes one client's stacks into a folder: `tsx local/synth.ts <client> <outdir>`.
 * Run by the local runtime in a child process, so esbuild's per-function output stays out of
 * the terminal unless synthesis fails.
 */
import { buildApp } from '../infra/lib/build-app';

const [client, outdir] = process.argv.slice(2);
if (!client || !outdir) {
  console.error('usage: tsx local/synth.ts <client> <outdir>');
  process.exit(2);
}
const { app } = buildApp({ clientName: client, appProps: { outdir } });
app.synth();
