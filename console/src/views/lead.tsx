import { useState } from 'preact/hooks';
import type { LeadDetail } from '../api';
import { dateTime, ErrorNote, money, repName, Section, TableScroll, usePolled, type ViewProps } from '../ui';

/** Why the system closed one of its tasks, as the lead page says it. */
const CLOSED_BECAUSE = {
  contacted: 'the lead was contacted',
  reassigned: 'the lead went to another rep',
  'deal-closed': 'the deal was won or lost',
} as const;

type TimelineEntry = LeadDetail['timeline'][number];

/** A timeline line in words: what happened, from the activity's type and data. */
function describe(entry: TimelineEntry, props: ViewProps): string {
  if (entry.kind === 'note') return `Note by ${repName(props.workspace, entry.note.by)}: ${entry.note.text}`;
  if (entry.kind === 'task')
    return `Task "${entry.task.title}" due ${dateTime(entry.task.dueAt)}${entry.task.done ? ' (done)' : ''}`;
  const { type, data } = entry.activity;
  const text = (key: string) => (typeof data[key] === 'string' ? (data[key] as string) : undefined);
  const label = type.replace(/_/g, ' ');
  const detail = [
    text('subject'),
    text('url') ?? text('path'),
    text('repId') && repName(props.workspace, text('repId')),
    text('to') && repName(props.workspace, text('to')),
    text('from') && text('to') ? `from ${text('from')}` : undefined,
    text('reason'),
  ]
    .filter(Boolean)
    .join(' · ');
  return detail ? `${label}: ${detail}` : label;
}

export function LeadView(props: ViewProps & { leadId: string }) {
  const { api, workspace, leadId } = props;
  const [message, setMessage] = useState<string>();
  const { data, error, reload } = usePolled(() => api.lead(leadId), 10_000, [leadId]);
  const [note, setNote] = useState('');
  const [taskTitle, setTaskTitle] = useState('');
  const [taskDue, setTaskDue] = useState('');
  const [stage, setStage] = useState<string>();
  const [amount, setAmount] = useState<string>();
  const [lostReason, setLostReason] = useState<string>();
  const [reassignTo, setReassignTo] = useState<string>();

  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      setMessage(done);
      reload();
    } catch (e) {
      setMessage((e as Error).message);
    }
  };

  if (error && !data)
    return (
      <>
        <h1>Lead</h1>
        <ErrorNote
          error={
            error.includes('not found') || error.includes('LEAD_NOT_FOUND')
              ? `Lead ${leadId} was not found, or is not yours to see.`
              : error
          }
        />
      </>
    );
  if (!data) return <p role="status">Loading…</p>;
  const { lead, score, timeline, access } = data;
  const p = lead.profile;
  const name = [p.firstName, p.lastName].filter(Boolean).join(' ') || p.email || lead.id;
  const currency = workspace.client.currency;
  const stages = workspace.pipeline.stages;
  const chosenStage = stage ?? lead.pipelineStage ?? '';
  const chosenOutcome = stages.find((s) => s.id === chosenStage)?.outcome;
  const canWork = access === 'work' || access === 'manage';
  // Offers already applied: their `details_accepted` activity names them.
  const acceptedOffers = new Set(
    timeline.flatMap((t) =>
      t.kind === 'activity' &&
      t.activity.type === 'details_accepted' &&
      typeof t.activity.data.offer === 'string'
        ? [t.activity.data.offer]
        : [],
    ),
  );
  const tasks = timeline.flatMap((t) => (t.kind === 'task' ? [t.task] : []));
  const utm = Object.entries(lead.source.utm ?? {}).filter(([, v]) => v);

  return (
    <>
      <h1>{name}</h1>
      <p class="muted">
        {[p.jobTitle, p.company].filter(Boolean).join(' at ')} · {lead.status} · owner{' '}
        {repName(workspace, lead.owner)}
      </p>
      <p role="status" class="status">
        {message}
      </p>
      <div class="grid">
        <Section title="Profile">
          <dl class="facts">
            <dt>Email</dt>
            <dd>{p.email ? <a href={`mailto:${p.email}`}>{p.email}</a> : '–'}</dd>
            <dt>Phone</dt>
            <dd>{p.phone ? <a href={`tel:${p.phone}`}>{p.phone}</a> : '–'}</dd>
            <dt>Company</dt>
            <dd>
              {[p.company, p.companySize ? `${p.companySize} people` : undefined, p.industry]
                .filter(Boolean)
                .join(' · ') || '–'}
            </dd>
            <dt>Country</dt>
            <dd>{p.country ?? '–'}</dd>
            <dt>Captured</dt>
            <dd>{dateTime(lead.createdAt)}</dd>
            <dt>First touch</dt>
            <dd>{dateTime(lead.firstTouchAt)}</dd>
            {p.message && (
              <>
                <dt>Message</dt>
                <dd>{p.message}</dd>
              </>
            )}
          </dl>
          {canWork && !lead.firstTouchAt && (
            <button
              type="button"
              class="primary"
              onClick={() =>
                void act(() => api.contacted(lead.id), 'Marked contacted: the SLA clock stopped.')
              }
            >
              Contacted
            </button>
          )}
        </Section>
        <Section title="Source">
          <dl class="facts">
            <dt>Channel</dt>
            <dd>{lead.source.channel}</dd>
            <dt>Provider</dt>
            <dd>{lead.source.provider}</dd>
            {lead.source.formId && (
              <>
                <dt>Form</dt>
                <dd>{lead.source.formId}</dd>
              </>
            )}
            {lead.source.landingPage && (
              <>
                <dt>Landing page</dt>
                <dd>{lead.source.landingPage}</dd>
              </>
            )}
            {utm.map(([k, v]) => (
              <>
                <dt>utm_{k}</dt>
                <dd>{v}</dd>
              </>
            ))}
          </dl>
        </Section>
        <Section title="Score">
          {score ? (
            <>
              <p class="big">
                <span data-testid="score-total">{score.total}</span>{' '}
                <span class="muted">
                  ({score.stage}; fit {score.fit}, engagement {score.engagement}, as of {dateTime(score.asOf)}
                  )
                </span>
              </p>
              <TableScroll label="Points per scoring rule">
                <table>
                  <caption class="visually-hidden">Points per scoring rule</caption>
                  <thead>
                    <tr>
                      <th scope="col">Rule</th>
                      <th scope="col">Kind</th>
                      <th scope="col" class="num">
                        Points
                      </th>
                      <th scope="col">How (decay and caps)</th>
                    </tr>
                  </thead>
                  <tbody>
                    {score.reasons.map((r) => (
                      <tr key={r.ruleId}>
                        <td>{r.label}</td>
                        <td>{r.kind}</td>
                        <td class="num">{r.points > 0 ? `+${r.points}` : r.points}</td>
                        <td class="detail">
                          {[r.occurrences !== undefined ? `${r.occurrences}×` : undefined, r.detail]
                            .filter(Boolean)
                            .join(' · ') || '–'}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableScroll>
            </>
          ) : (
            <p>Not scored yet.</p>
          )}
        </Section>
        <Section title="Stage">
          <form
            class="stack"
            onSubmit={(e) => {
              e.preventDefault();
              const change: Record<string, unknown> = {};
              if (chosenStage && chosenStage !== lead.pipelineStage) change.pipelineStage = chosenStage;
              if (amount !== undefined && amount !== '') change.amount = Number(amount);
              if (chosenOutcome === 'lost' && lostReason) change.lostReason = lostReason;
              void act(() => api.update(lead.id, lead.version, change), 'Saved.');
            }}
          >
            <label for="stage">Pipeline stage</label>
            <select
              id="stage"
              value={chosenStage}
              disabled={!canWork}
              onChange={(e) => setStage(e.currentTarget.value)}
            >
              <option value="">Not an opportunity yet</option>
              {stages.map((s) => (
                <option value={s.id} key={s.id}>
                  {s.name} ({Math.round(s.probability * 100)}%)
                </option>
              ))}
            </select>
            <label for="amount">Amount ({currency})</label>
            <input
              id="amount"
              type="number"
              min="0"
              step="100"
              disabled={!canWork}
              value={amount ?? lead.amount ?? ''}
              onInput={(e) => setAmount(e.currentTarget.value)}
            />
            {chosenOutcome === 'lost' && (
              <>
                <label for="lost-reason">Lost reason</label>
                <select
                  id="lost-reason"
                  required
                  value={lostReason ?? lead.lostReason ?? ''}
                  onChange={(e) => setLostReason(e.currentTarget.value)}
                >
                  <option value="">Choose a reason</option>
                  {workspace.pipeline.lostReasons.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              </>
            )}
            {lead.pipelineStage && (
              <p class="muted">
                Now: {stages.find((s) => s.id === lead.pipelineStage)?.name ?? lead.pipelineStage}
                {lead.amount !== undefined ? `, ${money(lead.amount, currency)}` : ''}
                {lead.lostReason ? `, lost: ${lead.lostReason}` : ''}
              </p>
            )}
            {canWork && (
              <button type="submit" class="primary">
                Save stage
              </button>
            )}
          </form>
          {access === 'manage' && (
            <form
              class="stack"
              onSubmit={(e) => {
                e.preventDefault();
                if (reassignTo)
                  void act(
                    () => api.reassign(lead.id, reassignTo),
                    `Reassigned to ${repName(workspace, reassignTo)}.`,
                  );
              }}
            >
              <label for="reassign">Reassign to</label>
              <select
                id="reassign"
                value={reassignTo ?? ''}
                onChange={(e) => setReassignTo(e.currentTarget.value)}
              >
                <option value="">Choose a rep</option>
                {workspace.reps
                  .filter((r) => r.id !== lead.owner)
                  .map((r) => (
                    <option value={r.id} key={r.id}>
                      {r.name}
                    </option>
                  ))}
              </select>
              <button type="submit">Reassign</button>
            </form>
          )}
        </Section>
        <Section title="Notes and tasks">
          {canWork && (
            <>
              <form
                class="stack"
                onSubmit={(e) => {
                  e.preventDefault();
                  if (note.trim())
                    void act(() => api.note(lead.id, note).then(() => setNote('')), 'Note added.');
                }}
              >
                <label for="note">Note</label>
                <textarea id="note" rows={2} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
                <button type="submit">Add note</button>
              </form>
              <form
                class="stack"
                onSubmit={(e) => {
                  e.preventDefault();
                  if (taskTitle.trim() && taskDue)
                    void act(
                      () =>
                        api
                          .task(lead.id, taskTitle, new Date(taskDue).toISOString())
                          .then(() => setTaskTitle('')),
                      'Task added.',
                    );
                }}
              >
                <label for="task-title">Task</label>
                <input
                  id="task-title"
                  value={taskTitle}
                  onInput={(e) => setTaskTitle(e.currentTarget.value)}
                />
                <label for="task-due">Due</label>
                <input
                  id="task-due"
                  type="datetime-local"
                  value={taskDue}
                  onInput={(e) => setTaskDue(e.currentTarget.value)}
                />
                <button type="submit">Add task</button>
              </form>
            </>
          )}
          <ul class="tasks" aria-label="Tasks">
            {tasks.map((t) => {
              const overdue = !t.done && Date.parse(t.dueAt) < Date.now();
              return (
                <li key={t.id} class={overdue ? 'overdue' : ''}>
                  <label>
                    <input
                      type="checkbox"
                      checked={t.done}
                      disabled={!canWork}
                      onChange={(e) =>
                        void act(() => api.taskDone(lead.id, t.id, e.currentTarget.checked), 'Task updated.')
                      }
                    />{' '}
                    {t.title} <span class="muted">due {dateTime(t.dueAt)}</span>
                    {t.origin && (
                      <span class="muted">
                        {' '}
                        · {t.origin === 'follow-up' ? 'SLA follow-up' : 'required for this stage'}
                      </span>
                    )}
                    {t.closedBecause && (
                      <span class="muted"> · closed: {CLOSED_BECAUSE[t.closedBecause]}</span>
                    )}
                    {overdue && <strong class="flag"> overdue</strong>}
                  </label>
                </li>
              );
            })}
          </ul>
        </Section>
      </div>
      <Section title="Timeline">
        <ol class="timeline">
          {timeline.map((entry) => (
            <li
              key={`${entry.kind}-${entry.at}-${entry.kind === 'activity' ? entry.activity.id : entry.kind === 'note' ? entry.note.id : entry.task.id}`}
            >
              <time class="when" dateTime={entry.at}>
                {dateTime(entry.at)}
              </time>{' '}
              <span>{describe(entry, props)}</span>
              {entry.kind === 'activity' && entry.activity.type === 'details_submitted' && (
                <OfferedDetails
                  offered={entry.activity.data.details}
                  accepted={acceptedOffers.has(entry.activity.id)}
                  canAccept={canWork}
                  onAccept={() =>
                    void act(() => api.acceptDetails(lead.id, entry.activity.id), 'Details accepted.')
                  }
                />
              )}
            </li>
          ))}
        </ol>
      </Section>
    </>
  );
}

/**
 * Details a later submission offered instead of overwriting the lead (forms are public): shown
 * field by field, applied in one step by the owner or a manager.
 */
function OfferedDetails(props: {
  offered: unknown;
  accepted: boolean;
  canAccept: boolean;
  onAccept: () => void;
}) {
  const details =
    props.offered && typeof props.offered === 'object'
      ? Object.entries(props.offered as Record<string, unknown>)
      : [];
  if (details.length === 0) return null;
  return (
    <div class="offered">
      <dl>
        {details.map(([field, value]) => (
          <div key={field}>
            <dt>{field}</dt> <dd>{String(value)}</dd>
          </div>
        ))}
      </dl>
      {props.accepted ? (
        <span class="muted">accepted</span>
      ) : (
        props.canAccept && (
          <button type="button" onClick={props.onAccept}>
            Accept these details
          </button>
        )
      )}
    </div>
  );
}
