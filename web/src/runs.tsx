// A task's run history under its editor: the last runs with state, lateness and runtime,
// whether the task is failing, and a failed run's exception and traceback on click.
import { useEffect, useState } from 'preact/hooks';

import { ApiError, api } from './api.js';

export interface Run {
  id: number;
  taskId: string | null;
  scheduledAt: string | null;
  sentAt: string;
  lateMs: number | null;
  manual: boolean;
  state: string;
  runtime: number | null;
  worker: string | null;
  exceptionType: string | null;
  exceptionMessage: string | null;
  traceback: string | null;
}

export interface Failing {
  reason: 'failures' | 'lost';
  failures: number;
}

interface RunsAnswer {
  items: Run[];
  failing: Failing | null;
  failingAfter: number;
}

const SHOWN = 25;
const REFRESH_MS = 10_000;

/** Why a task is failing, in words. */
export function failingText(failing: Failing, k?: number): string {
  return failing.reason === 'lost'
    ? 'failing: its last run never reported an outcome (LOST)'
    : `failing: its last ${k ?? failing.failures} runs failed`;
}

export function RunHistory({ taskId }: { taskId: number }) {
  const [data, setData] = useState<RunsAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  useEffect(() => {
    const load = () =>
      api<RunsAnswer>('GET', `/api/tasks/${taskId}/runs?limit=${SHOWN}`)
        .then(setData)
        .catch((caught: unknown) => setError(caught instanceof ApiError ? caught.message : String(caught)));
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [taskId]);
  if (data === null) return <p class="muted">{error ?? 'Loading runs…'}</p>;
  return (
    <section class="card runs" aria-label="run history">
      <h3>Last runs</h3>
      {data.failing && (
        <p class="error" role="alert">
          {failingText(data.failing, data.failingAfter)}
        </p>
      )}
      {data.items.length === 0 ? (
        <p class="muted">No runs recorded yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Sent (UTC)</th>
              <th>Slot</th>
              <th>Late</th>
              <th>State</th>
              <th>Runtime</th>
              <th>Worker</th>
              <th>Exception</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((run) => {
              const detail = run.traceback !== null || run.exceptionType !== null;
              return [
                <tr
                  key={run.id}
                  data-run={run.taskId ?? ''}
                  class={`${detail ? 'clickable' : ''} state-${run.state.toLowerCase()}`}
                  onClick={() => detail && setOpen(open === run.id ? null : run.id)}
                  aria-expanded={detail ? open === run.id : undefined}
                >
                  <td>{run.sentAt.slice(0, 19).replace('T', ' ')}</td>
                  <td>{run.manual ? 'manual' : (run.scheduledAt?.slice(11, 19) ?? '—')}</td>
                  <td class="num">{run.lateMs === null ? '—' : `${run.lateMs} ms`}</td>
                  <td>
                    <span class={`pill state ${run.state.toLowerCase()}`}>{run.state}</span>
                  </td>
                  <td class="num">{run.runtime === null ? '—' : `${run.runtime.toFixed(3)} s`}</td>
                  <td class="mono">{run.worker ?? '—'}</td>
                  <td class="mono">{run.exceptionType ?? ''}</td>
                </tr>,
                open === run.id && (
                  <tr key={`${run.id}-detail`} class="detail">
                    <td colSpan={7}>
                      <p class="mono">
                        {run.exceptionType}: {run.exceptionMessage}
                      </p>
                      {run.traceback && (
                        <pre class="traceback" aria-label="traceback">
                          {run.traceback}
                        </pre>
                      )}
                    </td>
                  </tr>
                ),
              ];
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
