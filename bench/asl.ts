/**
 * State transitions of a Step Functions path, counted from the state machine's definition
 * (Amazon States Language), so the cost of a workflow can be priced for a given outcome
 * without running it for real time (an SLA ladder lasts 20 working minutes, a nurture
 * sequence ten days).
 */

export interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Choices?: ReadonlyArray<{ readonly Next?: string }>;
}

export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
}

/** Thrown when the definition no longer has the states or branches a scenario names. */
export class AslPathError extends Error {
  override readonly name = 'AslPathError';
}

/**
 * Walks the definition from `StartAt`, entering one state per step, and returns how many states
 * were entered (Step Functions bills each as a state transition). At a `Choice` state,
 * `choose(stateName, visitsSoFar)` names the branch taken; it must be one of the state's
 * `Choices[].Next` or its `Default`.
 */
export function countTransitions(
  definition: AslDefinition,
  choose: (choiceState: string, visits: number) => string,
  maxSteps = 1000,
): number {
  const visits = new Map<string, number>();
  let name: string | undefined = definition.StartAt;
  let transitions = 0;
  while (name !== undefined) {
    const state: AslState | undefined = definition.States[name];
    if (!state) throw new AslPathError(`the definition has no state "${name}"`);
    transitions += 1;
    if (transitions > maxSteps) throw new AslPathError(`no end after ${maxSteps} states`);
    const seen = visits.get(name) ?? 0;
    visits.set(name, seen + 1);
    if (state.Type === 'Succeed' || state.Type === 'Fail' || state.End) return transitions;
    if (state.Type === 'Choice') {
      const next = choose(name, seen);
      const allowed: Array<string | undefined> = [...(state.Choices ?? []).map((c) => c.Next), state.Default];
      if (!allowed.includes(next)) {
        throw new AslPathError(`"${name}" has no branch to "${next}" (it has ${allowed.join(', ')})`);
      }
      name = next;
    } else {
      name = state.Next;
    }
  }
  return transitions;
}
