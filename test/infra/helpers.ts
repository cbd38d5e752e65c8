import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { type BuiltApp, buildApp } from '../../infra/lib/build-app';

/** A synthesized client: the built app, both templates and the cloud assembly folder. */
export interface SynthesizedClient extends BuiltApp {
  readonly data: Template;
  readonly pipeline: Template;
  readonly dataJson: CfnTemplate;
  readonly pipelineJson: CfnTemplate;
  readonly outdir: string;
}

/** The parts of a CloudFormation template the tests walk by hand. */
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Export?: unknown }>;
}
export interface CfnResource {
  readonly Type: string;
  /** Always present: {@link synthClient} fills in `{}` for resources without properties. */
  readonly Properties: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

/**
 * Builds and synthesizes one client exactly like `cdk synth` does (cdk-nag included). With
 * `bundle: false` the functions are not bundled (CDK's `aws:cdk:bundling-stacks` context), for
 * tests that only need the templates' shape.
 */
export function synthClient(clientName: string, options: { bundle?: boolean; clientsDir?: string } = {}) {
  const outdir = mkdtempSync(join(tmpdir(), `lead-pipeline-${clientName}-`));
  const built = buildApp({
    clientName,
    clientsDir: options.clientsDir,
    appProps: {
      outdir,
      ...(options.bundle === false ? { context: { 'aws:cdk:bundling-stacks': [] } } : {}),
    },
  });
  const assembly = built.app.synth();
  const read = (stackName: string): CfnTemplate => {
    const json = JSON.parse(readFileSync(join(assembly.directory, `${stackName}.template.json`), 'utf8')) as {
      Resources: Record<string, { Properties?: Record<string, unknown> }>;
    };
    for (const r of Object.values(json.Resources)) r.Properties ??= {};
    return json as unknown as CfnTemplate;
  };
  const dataJson = read(built.stacks.data.stackName);
  const pipelineJson = read(built.stacks.pipeline.stackName);
  const result: SynthesizedClient = {
    ...built,
    data: Template.fromJSON(dataJson as unknown as Record<string, unknown>),
    pipeline: Template.fromJSON(pipelineJson as unknown as Record<string, unknown>),
    dataJson,
    pipelineJson,
    outdir: assembly.directory,
  };
  return result;
}

/** Resources of one type, by logical id. */
export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** Logical ids a value refers to (`Ref`, `Fn::GetAtt`, `${X}` in `Fn::Sub`), pseudo parameters excluded. */
export function referencedIds(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) referencedIds(v, into);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string' && !v.startsWith('AWS::')) into.add(v);
      else if (k === 'Fn::GetAtt' && Array.isArray(v) && typeof v[0] === 'string') into.add(v[0]);
      else if (k === 'Fn::Sub') {
        const text = Array.isArray(v) ? v[0] : v;
        if (typeof text === 'string') {
          for (const m of text.matchAll(/\$\{([^}.!]+)[^}]*\}/g)) {
            const id = m[1] as string;
            if (!id.startsWith('AWS::')) into.add(id);
          }
        }
        referencedIds(v, into);
      } else referencedIds(v, into);
    }
  }
  return into;
}

/** A dependency cycle between resources of a template, or `undefined` when there is none. */
export function findCycle(template: CfnTemplate): string[] | undefined {
  const ids = new Set(Object.keys(template.Resources));
  const edges = new Map<string, string[]>();
  for (const [id, r] of Object.entries(template.Resources)) {
    const deps = referencedIds(r.Properties);
    for (const d of [r.DependsOn ?? []].flat()) deps.add(d);
    edges.set(
      id,
      [...deps].filter((d) => ids.has(d)),
    );
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const d of edges.get(id) ?? []) {
      const cycle = visit(d);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of ids) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * The Amazon States Language definition of a state machine, with every function ARN replaced by
 * a fake ARN naming the function's logical id (the emulator only needs a well-formed ARN).
 */
export function stateMachineDefinition(template: CfnTemplate, logicalId: string): AslDefinition {
  const resource = template.Resources[logicalId];
  if (!resource) throw new Error(`no resource ${logicalId}`);
  const body = resource.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const id = (part as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      return `arn:aws:lambda:eu-west-1:123456789012:function:${id}`;
    })
    .join('');
  return JSON.parse(text) as AslDefinition;
}

/** Enough of an ASL definition for the tests. */
export interface AslDefinition {
  readonly StartAt: string;
  readonly QueryLanguage?: string;
  readonly States: Record<string, Record<string, unknown>>;
}
