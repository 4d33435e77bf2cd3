// The task table: search, filters, sorting, pages; run now, enable, disable and
// delete one task or the selected ones. It reloads every 10 s, so an edit made in
// Django admin or SQL shows without a click.
import { useCallback, useEffect, useState } from 'preact/hooks';

import { ApiError, type Task, type TaskPage, api, query, wallTime } from './api.js';
import { failingText } from './runs.js';

const PAGE = 50;
const REFRESH_MS = 10_000;

export function TaskTable() {
  const [q, setQ] = useState('');
  const [enabled, setEnabled] = useState('');
  const [kind, setKind] = useState('');
  const [queue, setQueue] = useState('');
  const [sort, setSort] = useState('name');
  const [order, setOrder] = useState<'asc' | 'desc'>('asc');
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<TaskPage | null>(null);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | null>(null);

  const load = useCallback(async () => {
    try {
      setPage(
        await api<TaskPage>(
          'GET',
          `/api/tasks${query({ q, enabled, kind, queue: queue === '' ? undefined : queue, sort, order, limit: PAGE, offset })}`,
        ),
      );
    } catch (error) {
      setNotice({ text: error instanceof ApiError ? error.message : String(error), error: true });
    }
  }, [q, enabled, kind, queue, sort, order, offset]);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);

  const act = async (what: string, work: () => Promise<string>) => {
    try {
      setNotice({ text: await work() });
      await load();
    } catch (error) {
      setNotice({ text: `${what}: ${error instanceof ApiError ? error.message : String(error)}`, error: true });
    }
  };
  const runNow = (task: Task) =>
    act(
      'Run now',
      async () =>
        `Sent ${task.name}: Celery task id ${(await api<{ taskId: string }>('POST', `/api/tasks/${task.id}/run`)).taskId}`,
    );
  const toggle = (task: Task) =>
    act(task.enabled ? 'Disable' : 'Enable', async () => {
      await api('POST', '/api/tasks/bulk', { action: task.enabled ? 'disable' : 'enable', ids: [task.id] });
      return `${task.enabled ? 'Disabled' : 'Enabled'} ${task.name}`;
    });
  const remove = (task: Task) => {
    if (!confirm(`Delete the task "${task.name}"?`)) return;
    void act('Delete', async () => {
      await api('DELETE', `/api/tasks/${task.id}`, undefined, { 'If-Match': task.version });
      return `Deleted ${task.name}`;
    });
  };
  const bulk = (action: 'enable' | 'disable' | 'delete') => {
    const ids = [...selected];
    if (action === 'delete' && !confirm(`Delete ${ids.length} task(s)?`)) return;
    void act(`Bulk ${action}`, async () => {
      const answer = await api<{ changed: { name: string }[] }>('POST', '/api/tasks/bulk', { action, ids });
      setSelected(new Set());
      return `${action === 'delete' ? 'Deleted' : action === 'enable' ? 'Enabled' : 'Disabled'} ${answer.changed.length} task(s)`;
    });
  };
  const sortBy = (key: string) => {
    if (sort === key) setOrder(order === 'asc' ? 'desc' : 'asc');
    else {
      setSort(key);
      setOrder('asc');
    }
  };
  const header = (key: string | null, label: string) =>
    key === null ? (
      <th>{label}</th>
    ) : (
      <th
        class="sortable"
        onClick={() => sortBy(key)}
        aria-sort={sort === key ? (order === 'asc' ? 'ascending' : 'descending') : undefined}
      >
        {label}
        {sort === key ? (order === 'asc' ? ' ▲' : ' ▼') : ''}
      </th>
    );
  const items = page?.items ?? [];
  const allSelected = items.length > 0 && items.every((task) => selected.has(task.id));

  return (
    <section>
      <div class="toolbar">
        <input
          type="search"
          placeholder="Search name or description"
          aria-label="search"
          value={q}
          onInput={(e) => {
            setQ(e.currentTarget.value);
            setOffset(0);
          }}
        />
        <select
          aria-label="enabled filter"
          value={enabled}
          onChange={(e) => {
            setEnabled(e.currentTarget.value);
            setOffset(0);
          }}
        >
          <option value="">Enabled and disabled</option>
          <option value="true">Enabled</option>
          <option value="false">Disabled</option>
        </select>
        <select
          aria-label="schedule kind filter"
          value={kind}
          onChange={(e) => {
            setKind(e.currentTarget.value);
            setOffset(0);
          }}
        >
          <option value="">Any schedule</option>
          <option value="crontab">Crontab</option>
          <option value="interval">Interval</option>
          <option value="solar">Solar</option>
          <option value="clocked">Clocked</option>
        </select>
        <input
          placeholder="Queue"
          aria-label="queue filter"
          value={queue}
          onInput={(e) => {
            setQueue(e.currentTarget.value);
            setOffset(0);
          }}
        />
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
        <a class="button primary" href="#/tasks/new">
          New task
        </a>
      </div>
      {notice && (
        <p class={notice.error ? 'notice error' : 'notice'} role="status">
          {notice.text}
        </p>
      )}
      {selected.size > 0 && (
        <div class="bulk">
          {selected.size} selected:
          <button type="button" onClick={() => bulk('enable')}>
            Enable
          </button>
          <button type="button" onClick={() => bulk('disable')}>
            Disable
          </button>
          <button type="button" class="danger" onClick={() => bulk('delete')}>
            Delete
          </button>
        </div>
      )}
      <table class="tasks">
        <thead>
          <tr>
            <th>
              <input
                type="checkbox"
                aria-label="select all"
                checked={allSelected}
                onChange={() => setSelected(allSelected ? new Set() : new Set(items.map((task) => task.id)))}
              />
            </th>
            {header('name', 'Name')}
            {header('task', 'Task')}
            {header(null, 'Schedule')}
            {header(null, 'Next run')}
            {header('last_run_at', 'Last run')}
            {header('total_run_count', 'Runs')}
            {header('enabled', 'Enabled')}
            <th />
          </tr>
        </thead>
        <tbody>
          {items.map((task) => (
            <tr key={task.id} data-task={task.name} class={task.valid ? '' : 'invalid'}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`select ${task.name}`}
                  checked={selected.has(task.id)}
                  onChange={() => {
                    const next = new Set(selected);
                    if (next.has(task.id)) next.delete(task.id);
                    else next.add(task.id);
                    setSelected(next);
                  }}
                />
              </td>
              <td>
                <a href={`#/tasks/${task.id}`}>{task.name}</a>
                {task.failing && (
                  <span class="pill failing" title={failingText(task.failing)}>
                    failing
                  </span>
                )}
                {task.description && <div class="muted small">{task.description}</div>}
              </td>
              <td class="mono">
                {task.task}
                {(task.registration === 'unregistered' || task.registration === 'no worker for queue') && (
                  <div>
                    <span
                      class="badge warn"
                      title={
                        task.registration === 'unregistered'
                          ? 'no live worker consuming its queue has this task registered: its runs are discarded'
                          : 'no live worker consumes the queue its runs go to'
                      }
                    >
                      {task.registration}
                    </span>
                  </div>
                )}
              </td>
              <td class="mono">
                {task.schedule.text}
                {!task.valid && <div class="error small">{task.problem}</div>}
              </td>
              <td class="next-run" title={task.nextRun ? `${task.nextRun.utc} UTC` : ''}>
                {task.nextRun ? (
                  <>
                    {wallTime(task.nextRun.local)} <span class="muted small">{task.nextRun.zone}</span>
                    <div class="muted small">{wallTime(task.nextRun.utc)} UTC</div>
                  </>
                ) : (
                  '—'
                )}
              </td>
              <td>{task.lastRunAt ? `${wallTime(task.lastRunAt)} UTC` : 'never'}</td>
              <td class="num">{task.totalRunCount}</td>
              <td>
                <button
                  type="button"
                  class={task.enabled ? 'pill on' : 'pill'}
                  onClick={() => void toggle(task)}
                  aria-label={`${task.enabled ? 'disable' : 'enable'} ${task.name}`}
                >
                  {task.enabled ? 'on' : 'off'}
                </button>
              </td>
              <td class="actions">
                <button type="button" onClick={() => void runNow(task)} aria-label={`run ${task.name} now`}>
                  Run now
                </button>
                <button type="button" class="danger" onClick={() => remove(task)} aria-label={`delete ${task.name}`}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {page && page.total === 0 && <p class="muted">No tasks match.</p>}
      {page && page.total > 0 && (
        <div class="pager">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Previous
          </button>
          <span>
            {offset + 1}–{Math.min(offset + PAGE, page.total)} of {page.total}
          </span>
          <button type="button" disabled={offset + PAGE >= page.total} onClick={() => setOffset(offset + PAGE)}>
            Next
          </button>
        </div>
      )}
    </section>
  );
}
