import { useState } from 'preact/hooks';
import type { LeadSummary } from '../api';
import { countdown, ErrorNote, TaskFlags, useNow, usePolled, type ViewProps } from '../ui';

/** How often the queue asks for new leads: a form post shows up within seconds, no reload. */
export const QUEUE_POLL_MS = 3000;

const OPEN = new Set(['assigned', 'contacted', 'working']);
const PRIORITY_RANK: Record<string, number> = { high: 0, normal: 1, low: 2 };

/** Waiting for first contact first, then by priority, then the SLA deadline, then the oldest. */
export function queueOrder(a: LeadSummary, b: LeadSummary): number {
  const waiting = (l: LeadSummary) => (l.slaDueAt ? 0 : 1);
  return (
    waiting(a) - waiting(b) ||
    (PRIORITY_RANK[a.priority] ?? 1) - (PRIORITY_RANK[b.priority] ?? 1) ||
    (a.slaDueAt ?? '').localeCompare(b.slaDueAt ?? '') ||
    a.createdAt.localeCompare(b.createdAt)
  );
}

export function QueueView({ api }: ViewProps) {
  const now = useNow(1000);
  const [busy, setBusy] = useState<string>();
  const [message, setMessage] = useState<string>();
  const { data, error, reload, setData } = usePolled(
    async () => (await api.leads({ owner: 'me' })).filter((l) => OPEN.has(l.status)).sort(queueOrder),
    QUEUE_POLL_MS,
  );

  const contacted = async (lead: LeadSummary) => {
    setBusy(lead.id);
    try {
      const result = await api.contacted(lead.id);
      // The SLA stops at once: the countdown goes with the answer, before the next poll.
      setData((items) => items?.map((l) => (l.id === lead.id ? { ...result.lead } : l)));
      setMessage(
        `${lead.name ?? lead.email ?? lead.id} marked contacted ${Math.round(result.secondsToFirstTouch / 60)} min after capture.`,
      );
      reload();
    } catch (e) {
      setMessage((e as Error).message);
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <>
      <h1>My queue</h1>
      <p class="muted">
        Open leads assigned to you: the ones waiting for first contact first, by priority and SLA deadline.
      </p>
      <ErrorNote error={error} />
      <p role="status" class="status">
        {message}
      </p>
      {data && data.length === 0 && <p>No open leads. New ones appear here within seconds.</p>}
      <ul class="queue" aria-label="Open leads">
        {data?.map((lead) => {
          const left = lead.slaDueAt ? Date.parse(lead.slaDueAt) - now : undefined;
          return (
            <li
              key={lead.id}
              class={`lead-row${left !== undefined && left < 0 ? ' overdue' : ''}${
                (lead.overdueTasks ?? 0) > 0 || lead.stale ? ' attention' : ''
              }`}
              data-lead-id={lead.id}
            >
              <div class="who">
                <a href={`#/leads/${encodeURIComponent(lead.id)}`} class="name">
                  {lead.name ?? lead.email ?? lead.id}
                </a>
                <span class="muted">{[lead.company, lead.source.channel].filter(Boolean).join(' · ')}</span>
                <TaskFlags lead={lead} />
              </div>
              <span class={`pill ${lead.priority}`}>{lead.priority}</span>
              <span class="score" title="Score">
                {lead.score ?? '–'}
              </span>
              <span class="sla" data-sla={left === undefined ? 'stopped' : 'running'}>
                {left === undefined ? (
                  <span class="muted">{lead.status}</span>
                ) : (
                  <>
                    <span class="visually-hidden">
                      {left < 0 ? 'SLA overdue by ' : 'Time left before the SLA escalates: '}
                    </span>
                    <time dateTime={lead.slaDueAt}>{countdown(left)}</time>
                  </>
                )}
              </span>
              <span class="actions">
                {lead.phone && (
                  <a href={`tel:${lead.phone}`} class="button">
                    Call<span class="visually-hidden"> {lead.name}</span>
                  </a>
                )}
                {lead.email && (
                  <a href={`mailto:${lead.email}`} class="button">
                    Email<span class="visually-hidden"> {lead.name}</span>
                  </a>
                )}
                {lead.slaDueAt && (
                  <button
                    type="button"
                    class="primary"
                    disabled={busy === lead.id}
                    onClick={() => void contacted(lead)}
                  >
                    Contacted<span class="visually-hidden"> {lead.name}</span>
                  </button>
                )}
              </span>
            </li>
          );
        })}
      </ul>
    </>
  );
}
