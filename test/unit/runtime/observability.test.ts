import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../infra/lib/paths';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('traces hold no personal data', () => {
  it('no function code loads a tracer that could record responses or outbound URLs', () => {
    // Lambda's active tracing records segments without payloads; the Powertools Tracer (X-Ray SDK)
    // would add response metadata and HTTP subsegments whose paths can be secrets (Slack webhooks).
    const offenders = ['shared', 'functions']
      .flatMap((dir) => sources(join(REPO_ROOT, dir)))
      .filter((file) => /@aws-lambda-powertools\/tracer|aws-xray-sdk/.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
