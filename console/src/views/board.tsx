import { useState } from 'preact/hooks';
import { ApiError, type LeadSummary } from '../api';
import { ErrorNote, isManager, money, repName, TaskFlags, usePolled, type ViewProps } from '../ui';

/**
 * The pipeline board: a column per configured stage with its count and weighted value
 * (amount × stage probability, as the reports API computes it). A deal moves by drag and drop,
 * or from the keyboard: focus a card and press → / ← (or use its "Move" buttons).
 */

/** Cents-exact sums, as `money()` in the reports domain rounds them. */
const round2 = (n: number) => Math.round(n * 100) / 100;

export function BoardView({ api, workspace }: ViewProps) {
  const stages = workspace.pipeline.stages;
  const [message, setMessage] = useState<string>();
  const [pendingLost, setPendingLost] = useState<{ deal: LeadSummary; to: string }>();
  const [lostReason, setLostReason] = useState('');
  const [dragOver, setDragOver] = useState<string>();
  const { data, error, reload, setData } = usePolled(async () => {
    const admin = workspace.me.roles.includes('admin');
    const teams = admin
      ? workspace.teams.map((t) => t.id)
      : isManager(workspace)
        ? workspace.me.managedTeams
        : [];
    const lists = teams.length
      ? await Promise.all(teams.map((team) => api.leads({ team })))
      : [await api.leads({ owner: 'me' })];
    const seen = new Set<string>();
    return lists.flat().filter((l) => l.pipelineStage !== undefined && !seen.has(l.id) && seen.add(l.id));
  }, 10_000);

  const move = async (deal: LeadSummary, to: string, reason?: string) => {
    if (deal.pipelineStage === to) return;
    const target = stages.find((s) => s.id === to);
    if (!target) return;
    if (target.outcome === 'lost' && !reason) {
      setPendingLost({ deal, to });
      return;
    }
    // Optimistic: the card moves now; the answer (or the next poll) settles it.
    setData((items) =>
      items?.map((l) =>
        // A deal that moves is no longer stale (the API's flag comes back false on the next poll).
        l.id === deal.id
          ? { ...l, pipelineStage: to, pipelineStageAt: new Date().toISOString(), stale: undefined }
          : l,
      ),
    );
    // The card re-renders in its new column: keep the keyboard focus on it.
    requestAnimationFrame(() =>
      document.querySelector<HTMLElement>(`[data-stage="${to}"] [data-lead-id="${deal.id}"] a`)?.focus(),
    );
    try {
      const change = { pipelineStage: to, ...(reason ? { lostReason: reason } : {}) };
      const { lead } = await api.update(deal.id, deal.version, change).catch(async (error: unknown) => {
        // 412: the lead changed since the board loaded it (a re-score, a note). If its stage is
        // still the one the user moved it from, the move stands: retry on the current version.
        if (!(error instanceof ApiError) || error.status !== 412) throw error;
        const current = (await api.lead(deal.id)).lead;
        if (current.pipelineStage !== deal.pipelineStage) throw error;
        return api.update(deal.id, current.version, change);
      });
      // The next move sends this version in If-Match.
      setData((items) => items?.map((l) => (l.id === deal.id ? { ...l, version: lead.version } : l)));
      setMessage(`${deal.name ?? deal.id} moved to ${target.name}.`);
    } catch (e) {
      setMessage(`${deal.name ?? deal.id} was not moved: ${(e as Error).message}`);
    }
    reload();
  };

  const step = (deal: LeadSummary, by: number) => {
    const index = stages.findIndex((s) => s.id === deal.pipelineStage);
    const next = stages[index + by];
    if (next) void move(deal, next.id);
  };

  return (
    <>
      <h1>Pipeline</h1>
      <p class="muted" id="board-help">
        Drag a deal to another stage, or focus it and press → or ← to move it one stage. Deals untouched for{' '}
        {workspace.pipeline.staleAfterDays} days are marked stale, and deals with overdue tasks are flagged.
      </p>
      <ErrorNote error={error} />
      <p role="status" class="status">
        {message}
      </p>
      {pendingLost && (
        <form
          class="card stack lost-form"
          onSubmit={(e) => {
            e.preventDefault();
            const { deal, to } = pendingLost;
            setPendingLost(undefined);
            void move(deal, to, lostReason);
          }}
        >
          <label for="board-lost-reason">Why was {pendingLost.deal.name ?? 'the deal'} lost?</label>
          <select
            id="board-lost-reason"
            required
            value={lostReason}
            onChange={(e) => setLostReason(e.currentTarget.value)}
          >
            <option value="">Choose a reason</option>
            {workspace.pipeline.lostReasons.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
          <span class="actions">
            <button type="submit" class="primary">
              Mark lost
            </button>
            <button type="button" onClick={() => setPendingLost(undefined)}>
              Cancel
            </button>
          </span>
        </form>
      )}
      <div class="board">
        {stages.map((stage, index) => {
          const deals = (data ?? []).filter((d) => d.pipelineStage === stage.id);
          const amount = deals.reduce((sum, d) => sum + (d.amount ?? 0), 0);
          const weighted = round2(amount * stage.probability);
          return (
            <section
              key={stage.id}
              class={`column${dragOver === stage.id ? ' drop' : ''}`}
              aria-labelledby={`col-${stage.id}`}
              data-stage={stage.id}
              onDragOver={(e) => {
                e.preventDefault();
                setDragOver(stage.id);
              }}
              onDragLeave={() => setDragOver(undefined)}
              onDrop={(e) => {
                e.preventDefault();
                setDragOver(undefined);
                const id = e.dataTransfer?.getData('text/plain');
                const deal = data?.find((d) => d.id === id);
                if (deal) void move(deal, stage.id);
              }}
            >
              <h2 id={`col-${stage.id}`}>
                {stage.name} <span class="muted">{Math.round(stage.probability * 100)}%</span>
              </h2>
              <p class="totals">
                <span data-testid={`count-${stage.id}`}>{deals.length}</span> deals ·{' '}
                <span data-testid={`weighted-${stage.id}`} data-value={weighted}>
                  {money(weighted, workspace.client.currency)}
                </span>{' '}
                weighted
              </p>
              <ul class="deals" aria-label={`Deals in ${stage.name}`}>
                {deals.map((deal) => {
                  // Both flags are the API's: stale per the client file, overdue per the deal's tasks.
                  const stale = deal.stale === true;
                  const overdue = (deal.overdueTasks ?? 0) > 0;
                  return (
                    <li
                      key={deal.id}
                      class={`deal${stale ? ' stale' : ''}${overdue ? ' overdue-task' : ''}`}
                      draggable
                      data-lead-id={deal.id}
                      onDragStart={(e) => e.dataTransfer?.setData('text/plain', deal.id)}
                    >
                      {/* The keyboard handle: Tab to the deal, → / ← move it, Enter opens it. */}
                      <a
                        href={`#/leads/${encodeURIComponent(deal.id)}`}
                        class="deal-name"
                        aria-describedby="board-help"
                        onKeyDown={(e) => {
                          if (e.key === 'ArrowRight') {
                            e.preventDefault();
                            step(deal, 1);
                          } else if (e.key === 'ArrowLeft') {
                            e.preventDefault();
                            step(deal, -1);
                          }
                        }}
                      >
                        {deal.name ?? deal.email ?? deal.id}
                      </a>
                      <span class="muted">{deal.company}</span>
                      <span>
                        {deal.amount !== undefined
                          ? money(deal.amount, workspace.client.currency)
                          : 'no amount'}{' '}
                        · {repName(workspace, deal.owner)}
                      </span>
                      <TaskFlags lead={deal} />
                      <span class="move">
                        {index > 0 && (
                          <button
                            type="button"
                            class="small"
                            tabIndex={-1}
                            aria-label={`Move ${deal.name ?? deal.id} back`}
                            onClick={() => step(deal, -1)}
                          >
                            ←
                          </button>
                        )}
                        {index < stages.length - 1 && (
                          <button
                            type="button"
                            class="small"
                            tabIndex={-1}
                            aria-label={`Move ${deal.name ?? deal.id} on`}
                            onClick={() => step(deal, 1)}
                          >
                            →
                          </button>
                        )}
                      </span>
                    </li>
                  );
                })}
              </ul>
            </section>
          );
        })}
      </div>
    </>
  );
}
