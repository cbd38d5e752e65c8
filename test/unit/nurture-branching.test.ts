import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ClientConfigError, loadClientConfig, parseClientConfig } from '../../shared/config/load';
import type { Activity } from '../../shared/domain/lead';
import { behaviourMatches, chooseBranch, pathMatches, sendTime } from '../../shared/domain/nurture-branching';
import { stepTargets, targetKey } from '../../shared/domain/nurture-graph';

const config = loadClientConfig('example', 'clients');
const links = { pricing: 'https://www.northwind.example/pricing' };
const SINCE = '2026-03-02T09:00:00.000Z';

function act(type: Activity['type'], at: string, data: Activity['data'] = {}): Activity {
  return { id: `${type}-${at}`, leadId: 'lead-1', type, at, data };
}

// biome-ignore lint/suspicious/noExplicitAny: a raw client file, mutated to break it
function problemsOf(mutate: (nurture: any) => void): string[] {
  const raw = parse(readFileSync('clients/example.yaml', 'utf8')) as { nurture: unknown };
  mutate(raw.nurture);
  try {
    parseClientConfig(raw, 'test.yaml');
  } catch (error) {
    if (error instanceof ClientConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

const step = (id: string, waitHours: number, extra: Record<string, unknown> = {}) => ({
  id,
  waitHours,
  template: { subject: 's', html: '<p>h</p>', text: 't' },
  ...extra,
});

describe('behaviour since the previous step', () => {
  it('matches a click on the named link whatever its query, and not a machine click or an older one', () => {
    const when = { clicked: 'pricing' };
    const click = (at: string, link: string, data = {}) => act('email_clicked', at, { link, ...data });
    expect(
      behaviourMatches(
        when,
        [click('2026-03-02T10:00:00.000Z', 'https://www.northwind.example/pricing/?utm_source=x')],
        SINCE,
        links,
      ),
    ).toBe(true);
    expect(
      behaviourMatches(
        when,
        [click('2026-03-02T10:00:00.000Z', 'https://www.northwind.example/pricing', { machine: true })],
        SINCE,
        links,
      ),
    ).toBe(false);
    expect(
      behaviourMatches(
        when,
        [click('2026-03-02T08:00:00.000Z', 'https://www.northwind.example/pricing')],
        SINCE,
        links,
      ),
    ).toBe(false);
    expect(
      behaviourMatches(
        when,
        [click('2026-03-02T10:00:00.000Z', 'https://www.northwind.example/blog')],
        SINCE,
        links,
      ),
    ).toBe(false);
    // A link name the file does not define never matches.
    expect(
      behaviourMatches(
        { clicked: 'nope' },
        [click('2026-03-02T10:00:00.000Z', 'https://x.example/')],
        SINCE,
        links,
      ),
    ).toBe(false);
  });

  it('counts page visits by pattern, with a minimum number of times', () => {
    const visit = (at: string, path: string) => act('page_view', at, { path });
    const visits = [
      visit('2026-03-02T10:00:00.000Z', '/pricing'),
      visit('2026-03-02T11:00:00.000Z', '/Pricing/enterprise?x=1'),
    ];
    expect(behaviourMatches({ visited: '/pricing*', times: 2 }, visits, SINCE, links)).toBe(true);
    expect(behaviourMatches({ visited: '/pricing*', times: 3 }, visits, SINCE, links)).toBe(false);
    expect(behaviourMatches({ visited: '/pricing', times: 1 }, visits, SINCE, links)).toBe(true);
    expect(behaviourMatches({ visited: '/blog/*', times: 1 }, visits, SINCE, links)).toBe(false);
    expect(pathMatches('/pricing*', '/pricing-faq')).toBe(true);
    expect(pathMatches('/a.b', '/axb')).toBe(false);
  });

  it('reads opens (people only), replies and silence', () => {
    const open = act('email_opened', '2026-03-02T10:00:00.000Z');
    const machineOpen = act('email_opened', '2026-03-02T10:00:00.000Z', { machine: true });
    expect(behaviourMatches({ opened: true }, [open], SINCE, links)).toBe(true);
    expect(behaviourMatches({ opened: true }, [machineOpen], SINCE, links)).toBe(false);
    expect(
      behaviourMatches({ replied: true }, [act('email_replied', '2026-03-02T10:00:00.000Z')], SINCE, links),
    ).toBe(true);
    expect(
      behaviourMatches(
        { nothing: true },
        [machineOpen, act('email_delivered', '2026-03-02T10:00:00.000Z')],
        SINCE,
        links,
      ),
    ).toBe(true);
    expect(behaviourMatches({ nothing: true }, [open], SINCE, links)).toBe(false);
  });

  it("takes the example file's pricing branch on a click of the pricing link, and none without it", () => {
    const education = config.nurture.sequences.find((s) => s.id === 'education');
    if (!education) throw new Error('no education sequence');
    const caseStudy = education.steps.findIndex((s) => s.id === 'case-study');
    const clicked = [
      act('email_clicked', '2026-03-02T10:00:00.000Z', { link: 'https://www.northwind.example/pricing' }),
    ];
    expect(chooseBranch(config.nurture, education, caseStudy, clicked, SINCE)).toEqual({
      branchId: 'clicked-pricing',
      target: { kind: 'step', sequenceId: 'education', stepId: 'pricing-faq' },
    });
    expect(chooseBranch(config.nurture, education, caseStudy, [], SINCE)).toBeUndefined();
    // Silence before the webinar invite switches to the re-engagement sequence.
    const webinar = education.steps.findIndex((s) => s.id === 'webinar-invite');
    expect(chooseBranch(config.nurture, education, webinar, [], SINCE)?.target).toEqual({
      kind: 'step',
      sequenceId: 're-engage',
      stepId: 'work-email',
    });
  });

  it('lists every place a step can lead, the default first', () => {
    const education = config.nurture.sequences[0];
    if (!education) throw new Error('no sequence');
    expect(stepTargets(config.nurture.sequences, education, 1).map(targetKey)).toEqual([
      'education/webinar-invite',
      'education/pricing-faq',
    ]);
    expect(stepTargets(config.nurture.sequences, education, 2).map(targetKey)).toEqual([
      'end',
      're-engage/work-email',
    ]);
  });
});

describe('send window', () => {
  const window = { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const, start: '08:00', end: '11:00' };
  it("sends in the lead's local morning: now inside it, else the next opening", () => {
    const w = { ...window, days: [...window.days] };
    // 10:00 in London on a Monday: inside.
    expect(sendTime(w, 'Europe/London', new Date('2026-03-02T10:00:00Z')).toISOString()).toBe(
      '2026-03-02T10:00:00.000Z',
    );
    // 12:00 in London: the next morning, 08:00.
    expect(sendTime(w, 'Europe/London', new Date('2026-03-02T12:00:00Z')).toISOString()).toBe(
      '2026-03-03T08:00:00.000Z',
    );
    // The same instant is 07:00 in New York: 08:00 there (13:00 UTC).
    expect(sendTime(w, 'America/New_York', new Date('2026-03-02T12:00:00Z')).toISOString()).toBe(
      '2026-03-02T13:00:00.000Z',
    );
    expect(sendTime(undefined, 'Europe/London', new Date('2026-03-02T23:00:00Z')).toISOString()).toBe(
      '2026-03-02T23:00:00.000Z',
    );
  });
});

describe('nurture config validation', () => {
  it('accepts the example file', () => {
    expect(problemsOf(() => {})).toEqual([]);
  });

  it('names an unknown step, sequence or link by its path', () => {
    expect(
      problemsOf((n) => {
        n.sequences[0].steps[1].branches[0].goto = 'nowhere';
      }),
    ).toContain(
      'nurture.sequences[0].steps[1].branches[0].goto: unknown step "nowhere" in sequence "education"',
    );
    expect(
      problemsOf((n) => {
        n.sequences[0].steps[2].branches[0].sequence = 'gone';
      }),
    ).toContain('nurture.sequences[0].steps[2].branches[0].sequence: unknown nurture sequence "gone"');
    expect(
      problemsOf((n) => {
        n.sequences[0].steps[1].branches[0].when = { clicked: 'demo' };
      }),
    ).toContain(
      'nurture.sequences[0].steps[1].branches[0].when.clicked: unknown link "demo" (name it in nurture.links)',
    );
    expect(
      problemsOf((n) => {
        n.sequences[0].steps[0].next = 'later';
      }),
    ).toContain(
      'nurture.sequences[0].steps[0].next: unknown step "later" in sequence "education" (or "end")',
    );
  });

  it('reports a step nothing leads to', () => {
    const problems = problemsOf((n) => {
      n.sequences[0].steps[1].branches = [];
    });
    expect(problems).toEqual([
      'nurture.sequences[0].steps[3]: step "pricing-faq" is unreachable: no step or branch of "education" leads to it from "welcome-guide"',
      'nurture.sequences[0].steps[4]: step "pricing-reminder" is unreachable: no step or branch of "education" leads to it from "welcome-guide"',
    ]);
  });

  it('reports a cycle of steps without a wait, and accepts the same cycle with one', () => {
    const loop = (wait: number) => (n: { sequences: unknown[] }) => {
      n.sequences.push({
        id: 'loop',
        name: 'Loop',
        steps: [
          step('a', 1),
          step('b', 0, { branches: [{ id: 'again', when: { opened: true }, goto: 'c' }] }),
          step('c', wait, { next: 'b' }),
        ],
      });
    };
    expect(problemsOf(loop(0))).toEqual([
      'nurture.sequences[3].steps[1]: cycle without a wait: loop/b → loop/c → loop/b (give one of these steps a waitHours above 0)',
    ]);
    expect(problemsOf(loop(2))).toEqual([]);
  });

  it('needs exactly one way out per branch and a template or SMS text per channel', () => {
    const problems = problemsOf((n) => {
      n.sequences[0].steps[1].branches[0].end = true;
      n.sequences[0].steps[0].template = undefined;
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'nurture.sequences[0].steps[1].branches[0]: exactly one of goto, sequence or end',
        'nurture.sequences[0].steps[0].template: an email step needs a template',
      ]),
    );
  });
});
