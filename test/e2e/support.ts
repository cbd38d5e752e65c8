import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { REPO_ROOT } from '../../infra/lib/paths';
import { type Endpoints, LocalRuntime, type RuntimeOptions } from '../../local/runtime';
import type { Rep } from '../../shared/config/schema';
import type { Lead } from '../../shared/domain/lead';
import { isWithinWorkingHours } from '../../shared/domain/working-hours';

/**
 * What the end-to-end suite uses to talk to the running pipeline: only HTTP (the API, the dev
 * tokens and the local recorders under `/_local/*`), never a handler or DynamoDB directly.
 */

/** A person filling in the demo landing page (field names of the form at `GET /`). */
export interface FormLead {
  readonly first_name: string;
  readonly last_name: string;
  readonly email: string;
  readonly company?: string;
  readonly job_title?: string;
  readonly company_size?: string;
  readonly industry?: string;
  readonly country?: string;
  readonly phone?: string;
  readonly message?: string;
  readonly marketing_consent?: 'yes' | 'no';
}

/** `POST /leads` answered as JSON (`Accept: application/json`). */
export interface CaptureAnswer {
  readonly leadId: string;
  readonly status: 'created' | 'updated';
}

/** What `GET /leads/{id}` returns (the parts the suite reads). */
export interface LeadDetail {
  readonly lead: Lead;
  readonly timeline: ReadonlyArray<{
    kind: string;
    at: string;
    activity?: { type: string; data: Record<string, unknown> };
  }>;
}

/** `GET /admin/people/{email}`. */
export type PersonExport =
  | { readonly found: false; readonly suppression: { readonly suppressed: boolean } }
  | {
      readonly found: true;
      readonly leadId: string;
      readonly lead: Lead;
      readonly suppression: { readonly suppressed: boolean; readonly reason?: string };
      readonly activities: ReadonlyArray<{ type: string }>;
    };

/** One email in the SES recorder (`/_local/emails`). */
export interface RecordedEmail {
  readonly messageId: string;
  readonly to: string[];
  readonly subject: string;
  readonly tags: Record<string, string[]>;
  readonly headers: Array<{ name: string; value: string }>;
  readonly html?: string;
  readonly text?: string;
}

/** One Slack webhook post (`/_local/slack`), and what its buttons' presses made of it. */
export interface RecordedSlack {
  readonly body: { text?: string; blocks?: unknown[] };
  /** The message that replaced it through its `response_url`. */
  readonly replacedBy?: { text?: string; blocks?: unknown[] };
  /** Ephemeral replies to a press. */
  readonly ephemeral?: Array<{ text?: string }>;
}

/** One SNS publish (`/_local/sns`). */
export interface RecordedSns {
  readonly subject?: string;
  readonly message: string;
  readonly attributes: Record<string, string>;
}

/** One Step Functions execution (`/_local/executions`). */
export interface RecordedExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  /** The SLA ladder's input is `{ assignment, timer }`; nurture's the `Lead Nurtured` detail. */
  readonly input: { leadId?: string; assignment?: { leadId?: string } } & Record<string, unknown>;
  readonly output?: Record<string, unknown>;
  readonly error?: string;
  readonly cause?: string;
}

/** A one-time schedule of the local EventBridge Scheduler (an SLA rung). */
export interface RecordedSchedule {
  readonly name: string;
  readonly groupName: string;
  readonly at: string;
  readonly target: { readonly Arn: string; readonly Input?: string };
  readonly state: 'ENABLED' | 'FIRED' | 'FAILED';
}

/** Thin HTTP client of one running pipeline. */
export class PipelineClient {
  constructor(readonly endpoints: Endpoints) {}

  /** GET with a dev token (`admin` unless told otherwise); throws on a non-2xx answer. */
  async get<T>(path: string, role: keyof Endpoints['tokens'] = 'admin'): Promise<T> {
    const response = await fetch(`${this.endpoints.apiUrl}${path}`, {
      headers: { authorization: `Bearer ${this.endpoints.tokens[role]}`, accept: 'application/json' },
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  /** POST a JSON body with a dev token; returns status and parsed body. */
  post<T>(path: string, body: unknown = {}, role: keyof Endpoints['tokens'] = 'admin') {
    return this.send<T>('POST', path, body, role);
  }

  /** DELETE with a dev token; returns status, parsed body and the Location header. */
  async delete<T>(path: string, role: keyof Endpoints['tokens'] = 'admin') {
    const response = await fetch(`${this.endpoints.apiUrl}${path}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${this.endpoints.tokens[role]}`, accept: 'application/json' },
    });
    return {
      status: response.status,
      location: response.headers.get('location'),
      body: (await response.json()) as T,
    };
  }

  /** PATCH a JSON body with a dev token; returns status and parsed body. */
  patch<T>(path: string, body: unknown = {}, role: keyof Endpoints['tokens'] = 'admin') {
    return this.send<T>('PATCH', path, body, role);
  }

  private async send<T>(
    method: 'POST' | 'PATCH',
    path: string,
    body: unknown,
    role: keyof Endpoints['tokens'],
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.endpoints.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.endpoints.tokens[role]}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  /**
   * Posts the landing-page form (`application/x-www-form-urlencoded`) and asks for a JSON answer,
   * as a page's script would; a browser gets a 303 instead (see the landing-page test).
   */
  async submitForm(lead: FormLead): Promise<CaptureAnswer> {
    const response = await fetch(this.endpoints.captureUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: formBody(lead),
    });
    const text = await response.text();
    if (response.status !== 200 && response.status !== 201)
      throw new Error(`POST /leads answered ${response.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as CaptureAnswer;
  }

  lead(leadId: string): Promise<LeadDetail> {
    return this.get<LeadDetail>(`/leads/${encodeURIComponent(leadId)}`);
  }

  person(email: string): Promise<PersonExport> {
    return this.get<PersonExport>(`/admin/people/${encodeURIComponent(email)}`);
  }

  /** Every lead a rep owns (the leads API pages by 100). */
  async leadsOwnedBy(repId: string): Promise<Array<{ id: string; status: string; owner?: string }>> {
    const items: Array<{ id: string; status: string; owner?: string }> = [];
    let nextToken: string | undefined;
    do {
      const query = new URLSearchParams({ owner: repId, limit: '100', ...(nextToken ? { nextToken } : {}) });
      const page = await this.get<{ items: typeof items; nextToken?: string }>(`/leads?${query}`);
      items.push(...page.items);
      nextToken = page.nextToken;
    } while (nextToken);
    return items;
  }

  emails(): Promise<RecordedEmail[]> {
    return this.recorder('emails');
  }

  slack(): Promise<RecordedSlack[]> {
    return this.recorder('slack');
  }

  sns(): Promise<RecordedSns[]> {
    return this.recorder('sns');
  }

  executions(): Promise<RecordedExecution[]> {
    return this.recorder('executions');
  }

  deadLetters(): Promise<unknown[]> {
    return this.recorder('dead-letters');
  }

  /** The execution of one state machine (logical id prefix, e.g. `Sla`) started for a lead. */
  /** The SLA rung schedules of a lead: still pending, and already fired. */
  async schedulesFor(leadId: string): Promise<{ pending: RecordedSchedule[]; fired: RecordedSchedule[] }> {
    const all = await this.recorder<{ pending: RecordedSchedule[]; fired: RecordedSchedule[] }>('schedules');
    const ofLead = (s: RecordedSchedule) =>
      (JSON.parse(s.target.Input ?? '{}') as { assignment?: { leadId?: string } }).assignment?.leadId ===
      leadId;
    return { pending: all.pending.filter(ofLead), fired: all.fired.filter(ofLead) };
  }

  async executionsFor(machine: 'Sla' | 'Nurture', leadId: string): Promise<RecordedExecution[]> {
    const arn = Object.entries(this.endpoints.stateMachines).find(([logicalId]) =>
      logicalId.startsWith(machine),
    )?.[1];
    if (!arn) throw new Error(`no ${machine} state machine in ${Object.keys(this.endpoints.stateMachines)}`);
    return (await this.executions()).filter(
      (e) => e.stateMachineArn === arn && (e.input.assignment?.leadId ?? e.input.leadId) === leadId,
    );
  }

  private async recorder<T>(name: string): Promise<T> {
    const response = await fetch(`${this.endpoints.awsEndpointUrl}/_local/${name}`);
    if (!response.ok) throw new Error(`/_local/${name} answered ${response.status}`);
    return (await response.json()) as T;
  }
}

/** The form's urlencoded body, with the hidden fields the landing page adds. */
export function formBody(lead: FormLead, hidden: Record<string, string> = {}): string {
  return new URLSearchParams({
    hp_website: '',
    utm_source: 'e2e',
    form_id: 'demo-request',
    ...hidden,
    ...Object.fromEntries(Object.entries(lead).filter(([, v]) => v !== undefined)),
  }).toString();
}

/**
 * Polls `probe` until it returns something other than `undefined`/`false`, and returns it.
 * Fails with `what` and the last value seen, so a timeout says what never happened.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  { timeoutMs = 45_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Emails a lead received, oldest first, optionally of one kind (`nurture`, `auto-response`). */
export function emailsTo(emails: readonly RecordedEmail[], address: string, kind?: string): RecordedEmail[] {
  return emails.filter(
    (e) =>
      e.to.some((to) => to.toLowerCase() === address.toLowerCase()) &&
      (kind === undefined || e.tags.kind?.[0] === kind),
  );
}

/** The value of a header of a recorded email. */
export function headerOf(email: RecordedEmail, name: string): string | undefined {
  return email.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
}

/** Processes (Linux) whose command line mentions `text`, e.g. a DynamoDB Local under a data dir. */
export function processesMentioning(text: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return []; // not Linux: nothing to inspect
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(text)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Today's date in UTC, `YYYY-MM-DD` (reports take UTC days). */
export function utcDay(at: Date = new Date()): string {
  return at.toISOString().slice(0, 10);
}

/**
 * Waits (rarely, and at most a couple of minutes) until every rep who takes leads stays on shift
 * for the next `seconds`. The e2e client's reps work 00:00-23:59 every day, which leaves one
 * minute a day off shift in each rep's zone; a test that routes leads then could see a lead held
 * or routed elsewhere, so it starts after that minute instead.
 */
export async function clearOfShiftGaps(reps: readonly Rep[], seconds: number): Promise<void> {
  const working = reps.filter((r) => r.capacity > 0 && r.outOfOffice === false);
  const allOnShift = (from: number) => {
    for (let t = from; t <= from + seconds * 1000; t += 5_000) {
      if (!working.every((r) => isWithinWorkingHours(r.workingHours, r.timezone, new Date(t)))) return false;
    }
    return true;
  };
  while (!allOnShift(Date.now())) await new Promise((resolve) => setTimeout(resolve, 5_000));
}

/** An offline runtime of `clients/e2e.yaml` for one test file, in its own temporary data folder. */
export interface E2eRuntime {
  readonly runtime: LocalRuntime;
  readonly endpoints: Endpoints;
  readonly api: PipelineClient;
  readonly dataDir: string;
  /** Stops the runtime and removes its data folder. */
  dispose(): Promise<void>;
}

/**
 * Boots the e2e client the way every suite does: fresh, in memory, on free ports, quiet, with the
 * synthesized assembly shared between suites (it is fingerprinted, so reused while no source
 * changes). `options` override the defaults (time scale, console port, log...).
 */
export async function startE2eRuntime(
  name: string,
  options: Partial<RuntimeOptions> = {},
): Promise<E2eRuntime> {
  const dataDir = mkdtempSync(join(tmpdir(), `lead-pipeline-${name}-`));
  const runtime = new LocalRuntime({
    client: 'e2e',
    dataDir,
    fresh: true,
    apiPort: 0,
    timeScale: 600,
    synthDir: join(REPO_ROOT, '.local', 'e2e-cdk.out'),
    inMemory: true,
    log: () => {},
    ...options,
  });
  const dispose = async () => {
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const endpoints = await runtime.start();
    return { runtime, endpoints, api: new PipelineClient(endpoints), dataDir, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/**
 * Debian's Chromium driven by playwright-core (Playwright's own browser download cannot work on
 * these machines), headless, with the background networking a closed network refuses turned off.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
