import type { ClientConfig, NurtureSequence } from '../config/schema';

/**
 * The nurture sequences as a graph: where each step can send a lead (its `next`, its branches'
 * targets) and the checks that make the graph sound. The client file's validation and the
 * generated state machine both read it, so every place a task can send a lead is a state the
 * definition has. Pure, and imports types only (the config schema runs it at validation).
 */

type Nurture = Pick<ClientConfig['nurture'], 'sequences' | 'links'>;

/** Where a lead goes: a step (of its own or another sequence) or the end. */
export type NurtureTarget =
  | { readonly kind: 'step'; readonly sequenceId: string; readonly stepId: string }
  | { readonly kind: 'end' };

/** The value of `$.result.goto` the generated machine's `After` choice reads for a target. */
export function targetKey(target: NurtureTarget): string {
  return target.kind === 'end' ? 'end' : `${target.sequenceId}/${target.stepId}`;
}

/** `next: end` ends the sequence after the step. */
export const END = 'end';

/** Where a step goes when no branch matched: its `next`, else the following step, else the end. */
export function defaultTarget(sequence: NurtureSequence, index: number): NurtureTarget {
  const step = sequence.steps[index];
  if (step?.next === END) return { kind: 'end' };
  const nextId = step?.next ?? sequence.steps[index + 1]?.id;
  return nextId === undefined ? { kind: 'end' } : { kind: 'step', sequenceId: sequence.id, stepId: nextId };
}

/** Where a branch goes. */
export function branchTarget(
  sequences: readonly NurtureSequence[],
  sequence: NurtureSequence,
  branch: NurtureSequence['steps'][number]['branches'][number],
): NurtureTarget {
  if (branch.end) return { kind: 'end' };
  if (branch.goto !== undefined) return { kind: 'step', sequenceId: sequence.id, stepId: branch.goto };
  const other = sequences.find((s) => s.id === branch.sequence);
  const first = other?.steps[0];
  return other && first ? { kind: 'step', sequenceId: other.id, stepId: first.id } : { kind: 'end' };
}

/** Every place a step may send a lead, without duplicates: the default first, then each branch's. */
export function stepTargets(
  sequences: readonly NurtureSequence[],
  sequence: NurtureSequence,
  index: number,
): NurtureTarget[] {
  const step = sequence.steps[index];
  const all = [
    defaultTarget(sequence, index),
    ...(step?.branches ?? []).map((b) => branchTarget(sequences, sequence, b)),
  ];
  const seen = new Set<string>();
  return all.filter((t) => {
    const key = targetKey(t);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ------------------------------------------------------------------------ validation

/** A problem in the nurture graph, with the path of the field at fault. */
export interface GraphProblem {
  readonly path: (string | number)[];
  readonly message: string;
}

/**
 * Problems of the sequences as a graph: unknown step, sequence or link ids; steps no path from
 * their sequence's first step reaches; cycles with no wait (a lead would loop at once). Every
 * sequence is an entry (routing rules, triggers and the default enrol leads in it).
 */
export function nurtureGraphProblems(nurture: Nurture): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const { sequences } = nurture;
  const bySequence = new Map(sequences.map((s) => [s.id, s]));
  sequences.forEach((sequence, si) => {
    const stepIds = new Set<string>();
    sequence.steps.forEach((step, ki) => {
      if (stepIds.has(step.id))
        problems.push({
          path: ['nurture', 'sequences', si, 'steps', ki, 'id'],
          message: `duplicate step "${step.id}"`,
        });
      stepIds.add(step.id);
    });
    sequence.steps.forEach((step, ki) => {
      const at = ['nurture', 'sequences', si, 'steps', ki];
      if (step.next !== undefined && step.next !== END && !stepIds.has(step.next))
        problems.push({
          path: [...at, 'next'],
          message: `unknown step "${step.next}" in sequence "${sequence.id}" (or "end")`,
        });
      step.branches.forEach((branch, bi) => {
        const bp = [...at, 'branches', bi];
        if (branch.goto !== undefined && !stepIds.has(branch.goto))
          problems.push({
            path: [...bp, 'goto'],
            message: `unknown step "${branch.goto}" in sequence "${sequence.id}"`,
          });
        if (branch.sequence !== undefined && !bySequence.has(branch.sequence))
          problems.push({
            path: [...bp, 'sequence'],
            message: `unknown nurture sequence "${branch.sequence}"`,
          });
        if ('clicked' in branch.when && nurture.links[branch.when.clicked] === undefined)
          problems.push({
            path: [...bp, 'when', 'clicked'],
            message: `unknown link "${branch.when.clicked}" (name it in nurture.links)`,
          });
      });
    });
  });
  if (problems.length > 0) return problems;

  // Reachability inside each sequence, from its first step.
  const key = (sequenceId: string, stepId: string) => `${sequenceId}/${stepId}`;
  const edges = new Map<string, string[]>();
  const waits = new Map<string, number>();
  const where = new Map<string, (string | number)[]>();
  sequences.forEach((sequence, si) => {
    sequence.steps.forEach((step, ki) => {
      const k = key(sequence.id, step.id);
      waits.set(k, step.waitHours);
      where.set(k, ['nurture', 'sequences', si, 'steps', ki]);
      edges.set(
        k,
        stepTargets(sequences, sequence, ki)
          .filter((t) => t.kind === 'step')
          .map((t) => targetKey(t)),
      );
    });
    const first = sequence.steps[0];
    if (!first) return;
    const reached = new Set([key(sequence.id, first.id)]);
    const queue = [key(sequence.id, first.id)];
    for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
      for (const to of edges.get(k) ?? []) {
        if (!to.startsWith(`${sequence.id}/`) || reached.has(to)) continue;
        reached.add(to);
        queue.push(to);
      }
    }
    sequence.steps.forEach((step, ki) => {
      if (!reached.has(key(sequence.id, step.id)))
        problems.push({
          path: ['nurture', 'sequences', si, 'steps', ki],
          message: `step "${step.id}" is unreachable: no step or branch of "${sequence.id}" leads to it from "${first.id}"`,
        });
    });
  });

  // Cycles made of steps without a wait, across sequences (depth-first search on zero-wait edges).
  const zeroWait = (k: string) => (waits.get(k) ?? 1) === 0;
  const state = new Map<string, 'open' | 'done'>();
  const reported = new Set<string>();
  const visit = (k: string, trail: string[]) => {
    state.set(k, 'open');
    for (const to of edges.get(k) ?? []) {
      if (!zeroWait(to)) continue;
      if (state.get(to) === 'open') {
        const cycle = [...trail.slice(trail.indexOf(to)), to];
        const id = [...cycle].sort().join(',');
        if (!reported.has(id)) {
          reported.add(id);
          problems.push({
            path: where.get(to) ?? ['nurture'],
            message: `cycle without a wait: ${cycle.join(' → ')} (give one of these steps a waitHours above 0)`,
          });
        }
      } else if (!state.has(to)) visit(to, [...trail, to]);
    }
    state.set(k, 'done');
  };
  for (const k of edges.keys()) if (zeroWait(k) && !state.has(k)) visit(k, [k]);

  // A Standard execution runs at most a year: the longest path through a sequence (its waits
  // added up along steps that do not repeat) must fit, or the machine would be cut off mid-way.
  sequences.forEach((sequence, si) => {
    const first = sequence.steps[0];
    if (!first) return;
    const longest = (k: string, seen: ReadonlySet<string>): number => {
      const inside = (edges.get(k) ?? []).filter((to) => to.startsWith(`${sequence.id}/`) && !seen.has(to));
      const after = Math.max(0, ...inside.map((to) => longest(to, new Set([...seen, to]))));
      return (waits.get(k) ?? 0) + after;
    };
    const start = key(sequence.id, first.id);
    const hours = longest(start, new Set([start]));
    if (hours > MAX_SEQUENCE_HOURS)
      problems.push({
        path: ['nurture', 'sequences', si, 'steps'],
        message: `waits add up to ${hours} hours; a sequence must finish within one year (${MAX_SEQUENCE_HOURS} hours)`,
      });
  });
  return problems;
}

/** A Standard workflow execution's limit (one year), which a whole sequence must fit in. */
export const MAX_SEQUENCE_HOURS = 24 * 365;
