import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AllowedMethods,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import {
  CfnManagedLoginBranding,
  type IUserPool,
  ManagedLoginVersion,
  OAuthScope,
  UserPoolClient,
  UserPoolClientIdentityProvider,
  UserPoolDomain,
} from 'aws-cdk-lib/aws-cognito';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { buildConsoleInto } from '../../console/build';
import { nagName } from '../lib/nag';

/** Properties of the {@link ConsoleSite}. */
export interface ConsoleSiteProps {
  /** The user pool reps, managers and admins sign in with. */
  readonly userPool: IUserPool;
  /** Region of the API and the user pool (for the CSP and the sign-in domain). */
  readonly region: string;
  /**
   * Prefix of the Cognito managed-login domain (`<prefix>.auth.<region>.amazoncognito.com`);
   * globally unique per region.
   * @default "<clientName>-sales-<account id>"
   */
  readonly domainPrefix?: string;
  /** The client's name, for the default domain prefix. */
  readonly clientName: string;
}

/**
 * The sales console, deployed: the static bundle in a private S3 bucket behind CloudFront
 * (origin access control; HTTPS only; strict CSP and security headers on every answer), and
 * Cognito managed login for it (authorization code with PKCE; a public client with no secret).
 * Call {@link ConsoleSite.publish} once the API exists: it uploads the bundle and `config.json`.
 */
export class ConsoleSite extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  /** `https://<distribution domain>`, no trailing slash. */
  readonly url: string;
  /** The console's app client (authorization code flow with PKCE). */
  readonly client: UserPoolClient;
  readonly domain: UserPoolDomain;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ConsoleSiteProps,
  ) {
    super(scope, id);
    const stack = Stack.of(this);

    this.bucket = new Bucket(this, 'Files', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Only build output lives here: every deploy uploads it again.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Sales console: strict CSP and security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            // The API (execute-api) and the Cognito token endpoint; named by pattern because the
            // API's own CORS list names this distribution (an exact URL here would be a cycle).
            `connect-src 'self' https://*.execute-api.${props.region}.amazonaws.com https://*.auth.${props.region}.amazoncognito.com`,
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
          ].join('; '),
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
      },
    });

    this.distribution = new Distribution(this, 'Cdn', {
      comment: 'Sales console',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        responseHeadersPolicy: headers,
      },
    });
    this.url = `https://${this.distribution.distributionDomainName}`;

    this.domain = new UserPoolDomain(this, 'Login', {
      userPool: props.userPool,
      cognitoDomain: { domainPrefix: props.domainPrefix ?? `${props.clientName}-sales-${stack.account}` },
      managedLoginVersion: ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });
    // Created here, not with userPool.addClient (which scopes it to the pool's own stack): its
    // callback URL names this distribution, and the data stack must not depend on this one.
    this.client = new UserPoolClient(this, 'Client', {
      userPool: props.userPool,
      generateSecret: false,
      // No password flows from the browser: the managed login page takes the password.
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: [`${this.url}/`],
        logoutUrls: [`${this.url}/`],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
    });
    // Managed login (v2) shows a page only for clients with a style; Cognito's own is enough.
    new CfnManagedLoginBranding(this, 'LoginStyle', {
      userPoolId: props.userPool.userPoolId,
      clientId: this.client.userPoolClientId,
      useCognitoProvidedValues: true,
    });

    const v = Validations.of(this);
    v.acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The bucket holds only the built console, uploaded by each deploy; reads go through CloudFront.',
    });
    v.acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'Reps sign in from anywhere, so there is no geo restriction.',
    });
    v.acknowledge({
      id: 'AwsSolutions-CFR2',
      reason: 'Static files only; the API the console calls has its own throttling and JWT authorizer.',
    });
    v.acknowledge({
      id: 'AwsSolutions-CFR3',
      reason: 'Static files only; every API call is logged by the API stage access log.',
    });
    v.acknowledge({
      id: 'AwsSolutions-CFR4',
      reason:
        'The default CloudFront certificate; a custom domain with TLS 1.2 or later is a deploy-time choice.',
    });
    v.acknowledge({
      id: 'AwsSolutions-COG7',
      reason: 'The pool has no identity pool; this construct only adds a sign-in domain and an app client.',
    });
  }

  /**
   * Uploads the console and a `config.json` naming the API and the sign-in, and invalidates
   * CloudFront so the new files show at once.
   */
  publish(apiUrl: string): BucketDeployment {
    const dir = mkdtempSync(join(tmpdir(), 'lead-pipeline-console-'));
    buildConsoleInto(dir);
    const config = {
      apiUrl,
      auth: {
        kind: 'cognito',
        domain: this.domain.baseUrl(),
        clientId: this.client.userPoolClientId,
        userPoolId: this.props.userPool.userPoolId,
        region: this.props.region,
      },
    };
    const deployment = new BucketDeployment(this, 'Publish', {
      sources: [Source.asset(dir), Source.jsonData('config.json', config)],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
    });
    this.acknowledgeUploadFindings(deployment);
    return deployment;
  }

  /**
   * The upload runs in CDK's own Python function (one per stack, outside this construct): its
   * findings are acknowledged on that function only, one by one.
   */
  private acknowledgeUploadFindings(deployment: BucketDeployment): void {
    const stack = Stack.of(this);
    const handler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!handler) return;
    const v = Validations.of(handler);
    const why =
      'CDK BucketDeployment copies the built console from the CDK asset bucket to the console bucket at deploy time.';
    const assets = nagName(
      this,
      `arn:${Aws.PARTITION}:s3:::cdk-hnb659fds-assets-${stack.account}-${stack.region}/*`,
    );
    for (const id of [
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map(
        (action) => `AwsSolutions-IAM5[Action::${action}]`,
      ),
      `AwsSolutions-IAM5[Resource::${assets}]`,
      `AwsSolutions-IAM5[Resource::${nagName(this, `${this.bucket.bucketArn}/*`)}]`,
      // CloudFront CreateInvalidation has no resource-level permission for a distribution ARN here.
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-L1',
      'Serverless-LambdaLatestVersion',
      'Serverless-LambdaDLQ',
      'Serverless-LambdaTracing',
    ])
      v.acknowledge({ id, reason: why });
    void deployment;
  }
}
