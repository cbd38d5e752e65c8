import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  ClientConfigError,
  loadClientConfig,
  loadClientConfigFile,
  parseClientConfig,
} from '../../shared/config/load';

const exampleRaw = (): Record<string, unknown> => parse(readFileSync('clients/example.yaml', 'utf8'));

function problemsOf(mutate: (raw: Record<string, any>) => void): string[] {
  const raw = exampleRaw() as Record<string, any>;
  mutate(raw);
  try {
    parseClientConfig(raw, 'test.yaml');
  } catch (error) {
    if (error instanceof ClientConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('the example client', () => {
  const config = loadClientConfig('example', 'clients');

  it('describes two teams and six reps, one out of office', () => {
    expect(config.teams.map((t) => t.id)).toEqual(['emea', 'na']);
    expect(config.reps).toHaveLength(6);
    expect(config.reps.filter((r) => r.outOfOffice !== false).map((r) => r.id)).toEqual(['sofia']);
    for (const rep of config.reps) {
      expect(rep.timezone).toMatch(/\//);
      expect(rep.capacity).toBeGreaterThan(0);
      expect(rep.weight).toBeGreaterThanOrEqual(1);
    }
  });

  it('has MQL at 40, SQL at 70, a 5-minute SLA and a rep → backup → manager ladder', () => {
    expect(config.scoring.thresholds).toEqual({ mql: 40, sql: 70 });
    expect(config.sla.firstTouchMinutes).toBe(5);
    expect(config.sla.ladder.map((s) => s.to)).toEqual(['teamBackup', 'manager']);
    expect(config.nurture.sequences.map((q) => q.id)).toEqual([
      'education',
      'pricing-questions',
      're-engage',
    ]);
  });

  it('applies defaults for optional settings', () => {
    expect(config.capture.honeypotField).toBe('hp_website');
    expect(config.webhooks.generic.fieldMap.email).toBe('contact.email');
    expect(config.tracking.anonymousRetentionDays).toBe(30);
    expect(config.reps.find((r) => r.id === 'liam')?.role).toBe('rep');
  });
});

describe('a bad client file', () => {
  it('names the path of a bad field and what was expected', () => {
    const problems = problemsOf((raw) => {
      raw.reps[2].timezone = 'Mars/Olympus';
    });
    expect(problems).toEqual([
      'reps[2].timezone: an IANA time zone such as "Europe/Berlin" or "America/New_York"',
    ]);
  });

  it("names a generic field-map path it cannot read, and accepts Gravity Forms' dotted ids escaped or as lists", () => {
    const problems = problemsOf((raw) => {
      raw.webhooks.generic.fieldMap = { firstName: '1\\.3', lastName: ['1.6'], phone: '3..', email: 7 };
    });
    expect(problems).toEqual([
      'webhooks.generic.fieldMap.phone: segment 2 of "3.." is empty; write a dot inside a key as "\\." (1\\.3) or the path as a list (["1.3"])',
      'webhooks.generic.fieldMap.email: a path: dotted text such as "contact.email", or a list of keys such as ["1.3"]',
    ]);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf((raw) => {
      raw.reps[0].capacity = -1;
      raw.scoring.thresholds = { mql: 80, sql: 70 };
      raw.capture.allowedOrigins = ['https://www.example.com/path/'];
    });
    expect(problems).toHaveLength(3);
    expect(problems.some((p) => p.startsWith('reps[0].capacity:'))).toBe(true);
    expect(problems).toContain('scoring.thresholds.sql: mql must be below sql');
    expect(problems.some((p) => p.startsWith('capture.allowedOrigins[0]: an origin'))).toBe(true);
  });

  it('catches references to teams, reps and sequences that do not exist', () => {
    const problems = problemsOf((raw) => {
      raw.reps[1].team = 'apac';
      raw.routing.rules[0].target = { team: 'apac' };
      raw.routing.rules[4].target = { nurture: 'missing' };
      raw.routing.defaultOwner = 'nobody';
      raw.teams[0].manager = 'ghost';
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'reps[1].team: unknown team "apac"',
        'routing.rules[0].target.team: unknown team "apac"',
        'routing.rules[4].target.nurture: unknown nurture sequence "missing"',
        'routing.defaultOwner: unknown rep "nobody"',
        'teams[0].manager: unknown rep "ghost"',
      ]),
    );
  });

  it('rejects an invalid regular expression in a rule', () => {
    const problems = problemsOf((raw) => {
      raw.scoring.fit[1].when[0].pattern = '(unclosed';
    });
    expect(problems).toEqual(['scoring.fit[1].when[0].pattern: pattern is not a valid regular expression']);
  });

  it('rejects unknown keys, so a typo is not silently ignored', () => {
    const problems = problemsOf((raw) => {
      raw.sla.firstTouchMinuts = 5;
    });
    expect(problems[0]).toMatch(/^sla: Unrecognized key/);
  });

  it('rejects a country listed in two territories', () => {
    const problems = problemsOf((raw) => {
      raw.territories[1].countries.push('DE');
    });
    expect(problems).toEqual(['territories[1].countries: DE is already in territory "dach-uk-ie"']);
  });

  it('requires the file name to match client.name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clients-'));
    const file = join(dir, 'acme.yaml');
    writeFileSync(file, stringify(exampleRaw()));
    expect(() => loadClientConfigFile(file)).toThrow(
      /client\.name: "example" must match the file name "acme"/,
    );
  });

  it('explains a missing client file and invalid YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clients-'));
    expect(() => loadClientConfig('acme', dir)).toThrow(/no client file: create clients\/acme.yaml/);
    writeFileSync(join(dir, 'broken.yaml'), 'client: [unclosed');
    expect(() => loadClientConfig('broken', dir)).toThrow(/not valid YAML/);
  });
});

describe('required actions of pipeline stages', () => {
  it('reads them from the example client, defaulting to none', () => {
    const config = loadClientConfig('example', 'clients');
    const proposal = config.pipeline.stages.find((s) => s.id === 'proposal');
    expect(proposal?.requiredActions).toEqual([
      { title: 'Send the proposal', dueInHours: 24 },
      { title: 'Book the proposal review call', dueInHours: 72 },
    ]);
    expect(config.pipeline.stages.find((s) => s.id === 'decision')?.requiredActions).toEqual([]);
  });

  it('names the field of a bad action: empty title, zero hours, duplicate, unknown key', () => {
    const problems = problemsOf((raw) => {
      raw.pipeline.stages[2].requiredActions = [
        { title: '  ', dueInHours: 24 },
        { title: 'Send the proposal', dueInHours: 0 },
        { title: 'send the proposal', dueInHours: 2 },
        { title: 'Call', dueInHours: 2, owner: 'ana' },
      ];
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/pipeline\.stages\[2\]\.requiredActions\[0\]\.title.*empty/),
        expect.stringMatching(/pipeline\.stages\[2\]\.requiredActions\[1\]\.dueInHours.*more than 0/),
        expect.stringMatching(/pipeline\.stages\[2\]\.requiredActions\[2\]\.title.*duplicate/),
        expect.stringMatching(/pipeline\.stages\[2\]\.requiredActions\[3\].*owner/),
      ]),
    );
  });
});
