import { Stack, Validations } from 'aws-cdk-lib';
import type { Grant } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * Renders a CloudFormation value the way cdk-nag prints it in a finding id (its
 * `flattenCfnReference`): `<Logical.Attr>` for `Fn::GetAtt`, `<Logical>` for `Ref`, the export
 * name for `Fn::ImportValue`, joins flattened, anything else as JSON.
 */
export function flattenForNag(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o['Fn::Join']) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(flattenForNag).join(delimiter);
    }
    if (o['Fn::Sub']) return flattenForNag(o['Fn::Sub']);
    if (o['Fn::GetAtt']) {
      const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenForNag(resource)}.${flattenForNag(attribute)}>`;
    }
    if (o['Fn::ImportValue']) return flattenForNag(o['Fn::ImportValue']);
    if (o.Ref) return `<${flattenForNag(o.Ref)}>`;
  }
  return JSON.stringify(value);
}

/** A token (or plain string) rendered as cdk-nag prints it, resolved in `scope`'s stack. */
export function nagName(scope: IConstruct, value: string): string {
  return flattenForNag(Stack.of(scope).resolve(value));
}

/**
 * Acknowledges the AwsSolutions-IAM5 findings one grant causes, and only those: every resource
 * or action containing `*` in the grant's principal statements gets an acknowledgement with
 * `reason`, on `scope` (the grantee's construct). Nothing else is silenced.
 */
export function acknowledgeGrantWildcards(scope: IConstruct, grant: Grant, reason: string): void {
  const ids = new Set<string>();
  for (const statement of grant.principalStatements) {
    for (const resource of statement.resources) {
      const flat = nagName(scope, resource);
      if (flat.includes('*')) ids.add(`AwsSolutions-IAM5[Resource::${flat}]`);
    }
    for (const action of statement.actions) {
      if (action.includes('*')) ids.add(`AwsSolutions-IAM5[Action::${action}]`);
    }
  }
  for (const id of ids) Validations.of(scope).acknowledge({ id, reason });
}
