import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../infra/lib/paths';

/**
 * Synthesizes the client's stacks (`synth.ts`, in a child process), reusing the last assembly
 * when no input changed.
 */
export async function synthesize(
  client: string,
  clientsDir: string,
  outdir: string,
  children: ChildProcess[],
): Promise<string> {
  const fingerprint = sourceFingerprint(client, REPO_ROOT, clientsDir);
  const stamp = join(outdir, '.fingerprint');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === fingerprint) return outdir;
  rmSync(outdir, { recursive: true, force: true });
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./synth.ts', import.meta.url)), client, outdir, clientsDir],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-64 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const status = await new Promise<number | null>((done, failed) => {
    child.once('error', failed);
    child.once('close', done);
  });
  if (status !== 0) {
    const lines = output.split('\n').filter((l) => !l.includes('nodedir'));
    throw new Error(`cdk synth failed for client "${client}":\n${lines.slice(-40).join('\n')}`);
  }
  writeFileSync(stamp, fingerprint);
  return outdir;
}

/** What the synthesized output depends on, relative to the repository root. */
const SYNTH_INPUTS = [
  'infra',
  'functions',
  'shared',
  'clients',
  'local/synth.ts',
  'local/bundle.ts',
  'package.json',
  'package-lock.json',
  'tsconfig.json', // esbuild reads it
];

/**
 * Fingerprint of everything that changes the synthesized output: every file under
 * {@link SYNTH_INPUTS}, by path and content. Read from disk rather than from git, so it also holds
 * in a checkout without `.git` (a downloaded archive) and sees uncommitted edits.
 */
export function sourceFingerprint(
  client: string,
  root: string = REPO_ROOT,
  clientsDir: string = join(root, 'clients'),
): string {
  const files: string[] = [];
  for (const input of SYNTH_INPUTS) {
    const path = join(root, input);
    if (!existsSync(path)) continue;
    if (!statSync(path).isDirectory()) {
      files.push(input);
      continue;
    }
    for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
      const file = relative(root, join(entry.parentPath, entry.name));
      // Editor swap and backup files, .DS_Store and the like change nothing the synth reads.
      const scratch = file.split(/[\\/]/).some((part) => part.startsWith('.')) || file.endsWith('~');
      if (entry.isFile() && !scratch) files.push(file);
    }
  }
  const h = createHash('sha256').update(client);
  for (const file of files.sort()) h.update(`\u0000${file}\u0000`).update(readFileSync(join(root, file)));
  // A clients folder outside the repository (a test's variant of a client) counts too.
  if (relative(root, clientsDir).startsWith('..')) {
    for (const file of readdirSync(clientsDir).sort()) {
      const path = join(clientsDir, file);
      if (statSync(path).isFile()) h.update(`\u0000${path}\u0000`).update(readFileSync(path));
    }
  }
  return h.digest('hex');
}
