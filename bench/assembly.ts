import type { LoadedStack } from '../local/template';
import type { AslDefinition } from './asl';

/**
 * What the cost model reads from the synthesized templates (the same assembly the runtime runs):
 * each function's memory and architecture, and the state machine definitions.
 */

export interface FunctionProfile {
  readonly memoryMb: number;
  readonly architecture: 'arm64' | 'x86_64';
  /**
   * Whether Lambda writes its START/END/REPORT lines for every invocation: always in the text
   * log format, and in JSON at system log level INFO or DEBUG (WARN drops them).
   */
  readonly platformLines: boolean;
}

/** Memory and architecture of every function, by logical id. */
export function functionProfiles(stacks: readonly LoadedStack[]): Map<string, FunctionProfile> {
  const out = new Map<string, FunctionProfile>();
  for (const stack of stacks) {
    for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const props = resource.Properties ?? {};
      const architectures = (props.Architectures as string[] | undefined) ?? ['x86_64'];
      const logging = props.LoggingConfig as { LogFormat?: string; SystemLogLevel?: string } | undefined;
      out.set(logicalId, {
        memoryMb: Number(props.MemorySize ?? 128),
        architecture: architectures.includes('arm64') ? 'arm64' : 'x86_64',
        platformLines: logging?.LogFormat !== 'JSON' || logging.SystemLogLevel !== 'WARN',
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

/**
 * Each state machine's execution logging level (`ALL`, `ERROR`, `FATAL`, `OFF`), by logical id:
 * below `ALL`, successful executions write nothing.
 */
export function stateMachineLogLevels(stacks: readonly LoadedStack[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const stack of stacks) {
    for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
      if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
      const logging = resource.Properties?.LoggingConfiguration as { Level?: string } | undefined;
      out.set(logicalId, logging?.Level ?? 'OFF');
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
