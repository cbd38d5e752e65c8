import type { LoadedStack } from '../local/template';
import type { AslDefinition } from './asl';

/**
 * What the cost model reads from the synthesized templates (the same assembly the runtime runs):
 * each function's memory and architecture, and the state machine definitions.
 */

export interface FunctionProfile {
  readonly memoryMb: number;
  readonly architecture: 'arm64' | 'x86_64';
}

/** Memory and architecture of every function, by logical id. */
export function functionProfiles(stacks: readonly LoadedStack[]): Map<string, FunctionProfile> {
  const out = new Map<string, FunctionProfile>();
  for (const stack of stacks) {
    for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const props = resource.Properties ?? {};
      const architectures = (props.Architectures as string[] | undefined) ?? ['x86_64'];
      out.set(logicalId, {
        memoryMb: Number(props.MemorySize ?? 128),
        architecture: architectures.includes('arm64') ? 'arm64' : 'x86_64',
      });
    }
  }
  return out;
}

/**
 * Every state machine's definition, by logical id. ARNs inside the definition are CloudFormation
 * tokens; they are replaced by a placeholder, since only the states' structure is read.
 */
export function stateMachineDefinitions(stacks: readonly LoadedStack[]): Map<string, AslDefinition> {
  const out = new Map<string, AslDefinition>();
  for (const stack of stacks) {
    for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
      if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
      const text = flatten(resource.Properties?.DefinitionString);
      if (text) out.set(logicalId, JSON.parse(text) as AslDefinition);
    }
  }
  return out;
}

function flatten(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
  if (!join) return undefined;
  const [separator, parts] = join;
  return parts.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join(separator);
}

/** The global secondary indexes of every table, as `name (projection)`. */
export function tableIndexes(stacks: readonly LoadedStack[]): string[] {
  const out: string[] = [];
  for (const stack of stacks) {
    for (const resource of Object.values(stack.template.Resources)) {
      if (resource.Type !== 'AWS::DynamoDB::Table') continue;
      const indexes = (resource.Properties?.GlobalSecondaryIndexes ?? []) as Array<{
        IndexName?: string;
        Projection?: { ProjectionType?: string };
      }>;
      for (const index of indexes)
        out.push(`${index.IndexName} (${index.Projection?.ProjectionType ?? 'ALL'})`);
    }
  }
  return out;
}
