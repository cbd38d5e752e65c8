import { DynamoDBClient, paginateScan, QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Endpoints } from '../../local/runtime';
import { LOCAL_REGION } from '../../local/template';
import { keys } from '../../shared/contracts/table-design';
import { LeadEmailSchema } from '../../shared/domain/email';
import { INJECTION_MARKERS } from './hostile';

/** What the pipeline stored and showed, checked after a scenario drained. */

/** Lead fields that are single-line: a CR or LF in one is a header-injection risk. */
const SINGLE_LINE = ['email', 'firstName', 'lastName', 'company', 'jobTitle', 'phone', 'country'];

/** Every stored lead profile (`LEAD#<id>` / `PROFILE`). */
export async function storedLeads(endpoints: Endpoints): Promise<Array<Record<string, unknown>>> {
  const client = new DynamoDBClient({
    endpoint: endpoints.dynamoDbUrl,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const leads: Array<Record<string, unknown>> = [];
  for (const table of Object.values(endpoints.tables)) {
    for await (const page of paginateScan({ client }, { TableName: table })) {
      for (const item of page.Items ?? []) {
        const record = unmarshall(item);
        if (String(record.pk).startsWith('LEAD#') && record.sk === 'PROFILE') leads.push(record);
      }
    }
  }
  client.destroy();
  return leads;
}

/**
 * Outbox entries not yet published (stored with a change whose events the bus refused; the
 * scheduled relay publishes them once they are a minute old).
 */
export async function pendingOutboxEntries(endpoints: Endpoints): Promise<number> {
  const client = new DynamoDBClient({
    endpoint: endpoints.dynamoDbUrl,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let count = 0;
  for (const table of Object.values(endpoints.tables)) {
    const out = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: keys.outboxPartition } },
        Select: 'COUNT',
      }),
    );
    count += out.Count ?? 0;
  }
  client.destroy();
  return count;
}

/** Stored leads with an email the schema would refuse, or a CR/LF in a single-line field. */
export function invalidLeads(leads: ReadonlyArray<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  for (const lead of leads) {
    const id = String(lead.id ?? lead.pk);
    if (lead.email !== undefined && !LeadEmailSchema.safeParse(lead.email).success)
      problems.push(`${id}: invalid email ${JSON.stringify(lead.email)}`);
    for (const field of SINGLE_LINE) {
      const value = lead[field];
      if (typeof value === 'string' && /[\r\n]/.test(value)) problems.push(`${id}: CR/LF in ${field}`);
    }
  }
  return problems;
}

/** Slack messages that carry an injection marker unescaped (a mention, a disguised link, HTML). */
export function unescapedSlack(messages: ReadonlyArray<{ body: unknown }>): string[] {
  const problems: string[] = [];
  for (const message of messages) {
    const text = JSON.stringify(message.body);
    for (const marker of INJECTION_MARKERS) {
      if (text.includes(JSON.stringify(marker).slice(1, -1))) problems.push(`Slack renders ${marker}`);
    }
  }
  return problems;
}

/** True when an HTML answer carries an injection marker unescaped. */
export function unescapedHtml(contentType: string | null, body: string): string | undefined {
  if (!contentType?.includes('html')) return undefined;
  return INJECTION_MARKERS.find(
    (m) =>
      m.startsWith('<') &&
      !m.startsWith('<!') &&
      !m.startsWith('<@') &&
      !m.startsWith('<http') &&
      body.includes(m),
  );
}

/** GETs a local recorder (`/_local/<name>`). */
export async function recorder<T>(endpoints: Endpoints, name: string): Promise<T[]> {
  const response = await fetch(`${endpoints.awsEndpointUrl}/_local/${name}`);
  return (await response.json()) as T[];
}
