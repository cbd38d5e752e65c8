import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reads the synthesized CloudFormation templates of a client and resolves their intrinsic
 * functions to local names, so the offline runtime runs exactly what `cdk deploy` would deploy:
 * the same handlers (bundled assets), environment variables, rule patterns, state machine
 * definitions, table schemas and API routes. Nothing here knows about lead-pipeline resources
 * by name; it only understands CloudFormation.
 */

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: unknown;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
}

export interface LoadedStack {
  readonly name: string;
  readonly template: CfnTemplate;
}

/** Thrown when the template uses something the local runtime cannot resolve. */
export class UnsupportedTemplateError extends Error {
  override readonly name = 'UnsupportedTemplateError';
}

/** Local physical values of one resource: what `Ref` and each `Fn::GetAtt` attribute give. */
export interface LocalResource {
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** Loads the stacks listed in a cloud assembly (`manifest.json`). */
export function loadAssembly(assemblyDir: string): LoadedStack[] {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string; stackName?: string } }>;
  };
  const stacks: LoadedStack[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const template = JSON.parse(
      readFileSync(join(assemblyDir, artifact.properties.templateFile), 'utf8'),
    ) as CfnTemplate;
    stacks.push({ name: artifact.properties.stackName ?? id, template });
  }
  return stacks;
}

/** Short, readable local physical name for a logical id (`LeadsTable45ACA02C` → `example-LeadsTable`). */
export function localName(prefix: string, logicalId: string): string {
  return `${prefix}-${logicalId.replace(/[0-9A-F]{8}$/, '')}`;
}

/**
 * Resolves intrinsic functions across every stack of the assembly, given how to name each
 * resource locally.
 */
export class TemplateResolver {
  private readonly resources = new Map<string, LocalResource>();
  private readonly exports = new Map<string, { stack: LoadedStack; value: unknown }>();

  constructor(
    readonly stacks: readonly LoadedStack[],
    physical: (stack: LoadedStack, logicalId: string, resource: CfnResource) => LocalResource,
  ) {
    for (const stack of stacks) {
      for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
        this.resources.set(`${stack.name}/${logicalId}`, physical(stack, logicalId, resource));
      }
      for (const output of Object.values(stack.template.Outputs ?? {})) {
        if (output.Export) {
          const name = this.resolve(stack, output.Export.Name);
          this.exports.set(String(name), { stack, value: output.Value });
        }
      }
    }
  }

  /** Every resource of a type, across stacks. */
  resourcesOfType(type: string): Array<{ stack: LoadedStack; logicalId: string; resource: CfnResource }> {
    const found: Array<{ stack: LoadedStack; logicalId: string; resource: CfnResource }> = [];
    for (const stack of this.stacks) {
      for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
        if (resource.Type === type) found.push({ stack, logicalId, resource });
      }
    }
    return found;
  }

  /** The local values of a resource. */
  local(stack: LoadedStack, logicalId: string): LocalResource {
    const found = this.resources.get(`${stack.name}/${logicalId}`);
    if (!found) throw new UnsupportedTemplateError(`${stack.name}: no resource ${logicalId}`);
    return found;
  }

  /** Resolves a value that may contain intrinsic functions, within a stack. */
  resolve(stack: LoadedStack, value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    const [key, arg] = entries[0] ?? [];
    if (entries.length === 1 && key !== undefined && (key === 'Ref' || key.startsWith('Fn::'))) {
      return this.intrinsic(stack, key, arg);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(stack, v)]));
  }

  /** Resolves to a string, failing clearly if it is not one. */
  resolveString(stack: LoadedStack, value: unknown): string {
    const resolved = this.resolve(stack, value);
    if (typeof resolved !== 'string') {
      throw new UnsupportedTemplateError(`${stack.name}: expected a string, got ${JSON.stringify(resolved)}`);
    }
    return resolved;
  }

  private intrinsic(stack: LoadedStack, fn: string, arg: unknown): unknown {
    switch (fn) {
      case 'Ref': {
        const name = String(arg);
        const pseudo = PSEUDO[name];
        if (pseudo !== undefined) return pseudo;
        return this.local(stack, name).ref;
      }
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
        const resource = this.local(stack, String(logicalId));
        const value = resource.attributes[String(attribute)];
        if (value === undefined) {
          throw new UnsupportedTemplateError(`${stack.name}: no local value for ${logicalId}.${attribute}`);
        }
        return value;
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        return (this.resolve(stack, parts) as unknown[]).map(String).join(separator);
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg)
          ? (arg as [string, Record<string, unknown>])
          : [String(arg), {}];
        return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
          if (vars[name] !== undefined) return String(this.resolve(stack, vars[name]));
          if (PSEUDO[name] !== undefined) return PSEUDO[name];
          const [logicalId, attribute] = name.split('.');
          if (!logicalId) throw new UnsupportedTemplateError(`bad Fn::Sub variable ${name}`);
          return attribute
            ? String(this.intrinsic(stack, 'Fn::GetAtt', [logicalId, attribute]))
            : this.local(stack, logicalId).ref;
        });
      }
      case 'Fn::Select': {
        const [index, list] = arg as [number, unknown];
        const resolved = this.resolve(stack, list) as unknown[];
        return resolved[Number(index)];
      }
      case 'Fn::Split': {
        const [separator, text] = arg as [string, unknown];
        return String(this.resolve(stack, text)).split(separator);
      }
      case 'Fn::ImportValue': {
        const name = String(this.resolve(stack, arg));
        const exported = this.exports.get(name);
        if (!exported) throw new UnsupportedTemplateError(`no stack exports "${name}"`);
        return this.resolve(exported.stack, exported.value);
      }
      case 'Fn::If':
      case 'Fn::Equals':
        throw new UnsupportedTemplateError(`${fn} (conditions) is not supported locally`);
      default:
        throw new UnsupportedTemplateError(`${fn} is not supported locally`);
    }
  }
}

const PSEUDO: Record<string, string> = {
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'local',
  'AWS::NoValue': '',
};

/** The bundled handler file of a Lambda function (its asset directory in the assembly). */
export function handlerFile(
  assemblyDir: string,
  resource: CfnResource,
): { file: string; exportName: string } {
  const props = resource.Properties ?? {};
  const code = props.Code as { S3Key?: unknown } | undefined;
  const key = typeof code?.S3Key === 'string' ? code.S3Key : undefined;
  if (!key) throw new UnsupportedTemplateError('Lambda function without an asset S3Key');
  const hash = key.replace(/\.zip$/, '');
  const [moduleName, exportName] = String(props.Handler ?? 'index.handler').split('.');
  const dir = join(assemblyDir, `asset.${hash}`);
  for (const ext of ['.mjs', '.js', '.cjs']) {
    const file = join(dir, `${moduleName}${ext}`);
    if (existsSync(file)) return { file, exportName: exportName ?? 'handler' };
  }
  throw new UnsupportedTemplateError(`no bundle for ${props.Handler} in ${dir}`);
}
