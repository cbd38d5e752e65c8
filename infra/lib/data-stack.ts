import {
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import {
  AccountRecovery,
  type CfnUserPool,
  type CfnUserPoolClient,
  type CfnUserPoolGroup,
  ClientAttributes,
  FeaturePlan,
  Mfa,
  StandardThreatProtectionMode,
  StringAttribute,
  UserPool,
  type UserPoolClient,
} from 'aws-cdk-lib/aws-cognito';
import {
  AttributeType,
  BillingMode,
  type CfnTable,
  ProjectionType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { type CfnSecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { type CfnEmailIdentity, EmailIdentity, Identity } from 'aws-cdk-lib/aws-ses';
import type { Construct } from 'constructs';
import type { ClientConfig } from '../../shared/config/schema';
import {
  INTEGRATION_NAMES,
  INTEGRATION_SECRETS,
  type IntegrationName,
} from '../../shared/contracts/integration-secrets';
import { INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../../shared/contracts/table-design';
import { REP_ID_ATTRIBUTE } from '../../shared/http/auth';

/**
 * Logical ids of the stateful resources, pinned so refactoring the construct tree can never make
 * CloudFormation replace (and, with RETAIN, orphan) a table, user pool or secret.
 */
export const DATA_LOGICAL_IDS = {
  table: 'LeadsTable',
  userPool: 'RepsUserPool',
  userPoolClient: 'RepsUiClient',
  repGroup: 'RepGroup',
  managerGroup: 'ManagerGroup',
  adminGroup: 'AdminGroup',
  emailIdentity: 'EmailIdentity',
} as const;

/** Cognito groups the reps' UI and the leads API authorize on (`cognito:groups` claim). */
export const USER_GROUPS = ['rep', 'manager', 'admin'] as const;

/**
 * Pinned logical id of an integration's secret (`meta` → `MetaSecret`). The secrets themselves
 * are described once, in `INTEGRATION_SECRETS` (shared/adapters/integrations-secret.ts).
 */
export function integrationSecretLogicalId(name: IntegrationName): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}Secret`;
}

/** Properties of the {@link DataStack}. */
export interface DataStackProps extends StackProps {
  /** The validated client config. */
  readonly config: ClientConfig;
}

/**
 * Everything stateful for one client: the lead table, the reps' user pool, the SES identity and
 * the integrations secret. Every resource is retained on delete and has a pinned logical id; the
 * stack's termination protection comes from `stack.terminationProtection`.
 */
export class DataStack extends Stack {
  /** The single lead table (see `shared/contracts/table-design.ts`). */
  readonly table: Table;
  /** Reps, managers and admins. */
  readonly userPool: UserPool;
  /** The reps' UI (public client, no secret). */
  readonly userPoolClient: UserPoolClient;
  /** Verified SES identity for `email.identity`. */
  readonly emailIdentity: EmailIdentity;
  /** One JSON secret per integration (see `INTEGRATION_SECRETS`), by integration name. */
  readonly secrets: Readonly<Record<IntegrationName, Secret>>;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, { ...props, terminationProtection: props.config.stack.terminationProtection });
    const { config } = props;

    this.table = new Table(this, 'Leads', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // AWS-managed KMS key: encrypted at rest with key usage in CloudTrail, and no key policy to
      // keep in step with every function role across two stacks.
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const [indexName, index] of Object.entries(INDEXES)) {
      this.table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        // Keys only: a lead write then touches an index only when it changes that index's key
        // (owner, status, team, stage, day), not on every score, profile or SLA update, and an
        // index entry is one write unit instead of the whole lead again. Readers fetch the leads
        // with BatchGet (lead-queries.ts).
        projectionType: ProjectionType.KEYS_ONLY,
      });
    }
    (this.table.node.defaultChild as CfnTable).overrideLogicalId(DATA_LOGICAL_IDS.table);

    this.userPool = new UserPool(this, 'Reps', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      // A changed email takes effect only once the new address is verified; until then tokens
      // carry the old one, so nobody can claim a colleague's address by typing it in.
      keepOriginal: { email: true },
      // The rep a login acts as (`reps[].id`), set by an admin; the API reads it, never the email.
      customAttributes: { [REP_ID_ATTRIBUTE]: new StringAttribute({ minLen: 1, maxLen: 64, mutable: true }) },
      signInCaseSensitive: false,
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      // Reps see personal data of every lead they own: a second factor is mandatory.
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Plus tier for threat protection (compromised credentials, adaptive authentication); a
      // sales team is a handful of monthly active users, so the per-user cost is small.
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    (this.userPool.node.defaultChild as CfnUserPool).overrideLogicalId(DATA_LOGICAL_IDS.userPool);

    const groupIds = {
      rep: DATA_LOGICAL_IDS.repGroup,
      manager: DATA_LOGICAL_IDS.managerGroup,
      admin: DATA_LOGICAL_IDS.adminGroup,
    } as const;
    USER_GROUPS.forEach((groupName, precedence) => {
      // Group names are claims the API checks, not physical resource names: they must be fixed.
      const group = this.userPool.addGroup(`${groupName}Group`, {
        groupName,
        description: `Lead pipeline ${groupName}s`,
        precedence: USER_GROUPS.length - precedence,
      });
      (group.node.defaultChild as CfnUserPoolGroup).overrideLogicalId(groupIds[groupName]);
    });

    this.userPoolClient = this.userPool.addClient('RepsUi', {
      generateSecret: false,
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      // Users may edit their own name only: the email (sign-in and recovery address) and the rep
      // id are identity, changed by admins through the Cognito admin API.
      writeAttributes: new ClientAttributes().withStandardAttributes({
        givenName: true,
        familyName: true,
        fullname: true,
      }),
    });
    (this.userPoolClient.node.defaultChild as CfnUserPoolClient).overrideLogicalId(
      DATA_LOGICAL_IDS.userPoolClient,
    );

    const identity = config.email.identity.includes('@')
      ? Identity.email(config.email.identity)
      : Identity.domain(config.email.identity);
    this.emailIdentity = new EmailIdentity(this, 'Email', { identity });
    this.emailIdentity.applyRemovalPolicy(RemovalPolicy.RETAIN);
    (this.emailIdentity.node.defaultChild as CfnEmailIdentity).overrideLogicalId(
      DATA_LOGICAL_IDS.emailIdentity,
    );
    if (!config.email.identity.includes('@')) {
      // The three Easy DKIM CNAMEs the admin publishes in the domain's DNS before SES will send.
      this.emailIdentity.dkimRecords.forEach((record, i) => {
        new CfnOutput(this, `DkimRecord${i + 1}`, {
          value: Fn.join(' ', [record.name, 'CNAME', record.value]),
          description: `Easy DKIM record ${i + 1} of 3 for ${config.email.identity}: publish it in DNS`,
        });
      });
    }

    const secrets: Partial<Record<IntegrationName, Secret>> = {};
    for (const name of INTEGRATION_NAMES) secrets[name] = this.integrationSecret(config, name);
    this.secrets = secrets as Record<IntegrationName, Secret>;
  }

  /**
   * One integration's secret: a JSON object with the registry's keys, empty until the operator
   * fills them in, except a generated key (the signing key), created at deploy time.
   */
  private integrationSecret(config: ClientConfig, name: IntegrationName): Secret {
    const spec: { description: string; keys: object; generatedKey?: string } = INTEGRATION_SECRETS[name];
    const emptyKeys = Object.keys(spec.keys).filter((key) => key !== spec.generatedKey);
    const secret = new Secret(this, `${integrationSecretLogicalId(name)}Resource`, {
      description: `lead-pipeline ${config.client.name}: ${spec.description}`,
      ...(spec.generatedKey
        ? {
            generateSecretString: {
              secretStringTemplate: JSON.stringify(Object.fromEntries(emptyKeys.map((k) => [k, '']))),
              generateStringKey: spec.generatedKey,
              passwordLength: 64,
              excludePunctuation: true,
              includeSpace: false,
            },
          }
        : {
            // Empty placeholders, not credentials: the operator puts the values (README step 4).
            secretObjectValue: Object.fromEntries(emptyKeys.map((k) => [k, SecretValue.unsafePlainText('')])),
          }),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    (secret.node.defaultChild as CfnSecret).overrideLogicalId(integrationSecretLogicalId(name));
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: spec.generatedKey
        ? 'The signing key signs unsubscribe links and visitor tokens already sent out; rotating it would void every one of them, so no Lambda rotation applies.'
        : "Third-party credentials are issued and rotated in the provider's console and pasted here; there is nothing a rotation Lambda could rotate.",
    });
    return secret;
  }
}
