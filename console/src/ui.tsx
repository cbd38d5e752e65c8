import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api, LeadSummary, Workspace } from './api';

/** What every view gets from the shell. */
export interface ViewProps {
  readonly api: Api;
  readonly workspace: Workspace;
}

export function isManager(workspace: Workspace): boolean {
  return workspace.me.roles.includes('manager') || workspace.me.roles.includes('admin');
}

/** The current time, re-rendered every `everyMs` (live countdowns). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/**
 * Loads with `load` now and every `everyMs` after (new leads show up without a reload);
 * `reload` fetches at once (after an action). Errors are kept for display, not thrown.
 */
export function usePolled<T>(load: () => Promise<T>, everyMs: number | undefined, deps: unknown[] = []) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const loadRef = useRef(load);
  loadRef.current = load;
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    const run = () =>
      loadRef.current().then(
        (value) => {
          if (live) {
            setData(value);
            setError(undefined);
          }
        },
        (e: Error) => live && setError(e.message),
      );
    void run();
    const timer = everyMs ? setInterval(run, everyMs) : undefined;
    return () => {
      live = false;
      if (timer) clearInterval(timer);
    };
  }, [everyMs, tick, ...deps]);
  return { data, error, reload: () => setTick((t) => t + 1), setData };
}

export function money(amount: number, currency: string): string {
  return new Intl.NumberFormat('en-GB', { style: 'currency', currency, maximumFractionDigits: 0 }).format(
    amount,
  );
}

export function percent(share: number | null | undefined): string {
  return share === null || share === undefined ? '–' : `${(share * 100).toFixed(1)}%`;
}

/** `4:59`, `1:02:03`, or `−0:12` once past. */
export function countdown(ms: number): string {
  const sign = ms < 0 ? '−' : '';
  let s = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${sign}${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

export function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (value < 120) return `${Math.round(value)} s`;
  if (value < 7200) return `${(value / 60).toFixed(1)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

export function dateTime(iso: string | undefined): string {
  if (!iso) return '–';
  return new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

export function repName(workspace: Workspace, repId: string | undefined): string {
  if (!repId) return 'unassigned';
  return workspace.reps.find((r) => r.id === repId)?.name ?? repId;
}

export function ErrorNote({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

export function Section({
  title,
  children,
  id,
}: {
  title: string;
  children: ComponentChildren;
  id?: string;
}) {
  const headingId = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-h`;
  return (
    <section class="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      {children}
    </section>
  );
}

/** Days since an ISO instant. */
/**
 * The attention flags of a lead in a list: a stale deal, and overdue tasks (with the next due
 * time in a tooltip). Words, not only colour, so screen readers and colour-blind users get them.
 */
export function TaskFlags({ lead }: { lead: LeadSummary }) {
  const overdue = lead.overdueTasks ?? 0;
  if (!lead.stale && overdue === 0) return null;
  return (
    <span class="flags">
      {lead.stale && <strong class="flag stale-flag">stale</strong>}
      {overdue > 0 && (
        <strong
          class="flag overdue-flag"
          title={lead.nextTaskDueAt ? `Oldest due ${lead.nextTaskDueAt}` : undefined}
        >
          {overdue} overdue {overdue === 1 ? 'task' : 'tasks'}
        </strong>
      )}
    </span>
  );
}

export function daysSince(iso: string | undefined, now: number): number {
  return iso ? (now - Date.parse(iso)) / 86_400_000 : 0;
}

/**
 * A table that scrolls sideways inside its card on narrow screens instead of widening the page.
 * The scrolling region takes focus so keyboard users can scroll it too.
 */
export function TableScroll({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1)
    <section class="table-scroll" aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}
