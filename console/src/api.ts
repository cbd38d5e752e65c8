import type { ContactedResult, ReassignResult, UpdateResult } from '../../shared/services/lead-commands';
import type { LeadDetail, LeadSummary, Workspace } from '../../shared/services/lead-queries';
import type { ReportResult } from '../../shared/services/reports';

export type { LeadDetail, LeadSummary, Workspace };

/** An answer other than 2xx, with the API's own message (it names the field and the reason). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The leads and reports APIs, called with the session's token. */
export class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly onUnauthorized: () => void,
  ) {}

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (response.status === 401) this.onUnauthorized();
    if (!response.ok) {
      const problem = (parsed ?? {}) as {
        error?: string;
        message?: string;
        fields?: { field: string; reason: string }[];
      };
      const fields = problem.fields?.map((f) => `${f.field}: ${f.reason}`).join('; ');
      throw new ApiError(
        response.status,
        problem.error ?? String(response.status),
        [problem.message ?? response.statusText, fields].filter(Boolean).join(' — '),
      );
    }
    return parsed as T;
  }

  workspace(): Promise<Workspace> {
    return this.call('GET', '/me');
  }

  /** Every page of a lead list (bounded: a console shows at most `maxPages` × 100 leads). */
  async leads(query: Record<string, string> = {}, maxPages = 10): Promise<LeadSummary[]> {
    const items: LeadSummary[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const params = new URLSearchParams({ ...query, limit: '100', ...(nextToken ? { nextToken } : {}) });
      const result = await this.call<{ items: LeadSummary[]; nextToken?: string }>('GET', `/leads?${params}`);
      items.push(...result.items);
      nextToken = result.nextToken;
      if (!nextToken) break;
    }
    return items;
  }

  lead(id: string): Promise<LeadDetail> {
    return this.call('GET', `/leads/${encodeURIComponent(id)}`);
  }

  contacted(id: string): Promise<ContactedResult> {
    return this.call('POST', `/leads/${encodeURIComponent(id)}/contacted`, {});
  }

  update(
    id: string,
    version: number,
    change: { pipelineStage?: string; amount?: number; lostReason?: string; status?: string },
  ): Promise<UpdateResult> {
    return this.call('PATCH', `/leads/${encodeURIComponent(id)}`, change, { 'if-match': `"${version}"` });
  }

  reassign(id: string, repId: string): Promise<ReassignResult> {
    return this.call('POST', `/leads/${encodeURIComponent(id)}/reassign`, { repId });
  }

  note(id: string, text: string): Promise<unknown> {
    return this.call(
      'POST',
      `/leads/${encodeURIComponent(id)}/notes`,
      { text },
      { 'idempotency-key': crypto.randomUUID() },
    );
  }

  task(id: string, title: string, dueAt: string): Promise<unknown> {
    return this.call(
      'POST',
      `/leads/${encodeURIComponent(id)}/tasks`,
      { title, dueAt },
      { 'idempotency-key': crypto.randomUUID() },
    );
  }

  taskDone(id: string, taskId: string, done: boolean): Promise<unknown> {
    return this.call('PATCH', `/leads/${encodeURIComponent(id)}/tasks/${encodeURIComponent(taskId)}`, {
      done,
    });
  }

  /** Applies details a resubmission offered (a `details_submitted` activity) to the lead. */
  acceptDetails(id: string, activityId: string): Promise<unknown> {
    return this.call(
      'POST',
      `/leads/${encodeURIComponent(id)}/details/${encodeURIComponent(activityId)}/accept`,
      {},
    );
  }

  report<T>(name: string, query: Record<string, string> = {}): Promise<ReportResult & { data: T }> {
    return this.call('GET', `/reports/${name}?${new URLSearchParams(query)}`);
  }

  exportPerson(email: string): Promise<unknown> {
    return this.call('GET', `/admin/people/${encodeURIComponent(email)}`);
  }

  erasePerson(email: string): Promise<unknown> {
    return this.call('DELETE', `/admin/people/${encodeURIComponent(email)}`);
  }
}
