// The task editor: the fields of `schedule()`, a live preview of the next 5 runs
// (from the server's schedule engine, DST-moved runs marked), and save with the
// version read, so a concurrent edit is reported (409) instead of overwritten.
import { useEffect, useState } from 'preact/hooks';

import { ApiError, type Issue, type Task, api, query, wallTime } from './api.js';

type Kind = 'crontab' | 'interval' | 'solar' | 'clocked';

const SCHEDULE_FIELDS: Record<Kind, [string, string, string][]> = {
  crontab: [
    ['minute', 'Minute', '*'],
    ['hour', 'Hour', '*'],
    ['dayOfMonth', 'Day of month', '*'],
    ['monthOfYear', 'Month', '*'],
    ['dayOfWeek', 'Day of week', '*'],
    ['timezone', 'Time zone', 'UTC'],
  ],
  interval: [
    ['every', 'Every', '10'],
    ['period', 'Period (days, hours, minutes, seconds)', 'seconds'],
  ],
  solar: [
    ['event', 'Event (sunrise, sunset, solar_noon, dusk_civil …)', 'sunrise'],
    ['latitude', 'Latitude', '0'],
    ['longitude', 'Longitude', '0'],
  ],
  clocked: [['clockedTime', 'Time (ISO 8601 with zone)', '']],
};

interface Form {
  name: string;
  task: string;
  description: string;
  enabled: boolean;
  oneOff: boolean;
  kind: Kind;
  schedule: Record<string, string>;
  args: string;
  kwargs: string;
  headers: string;
  queue: string;
  exchange: string;
  routingKey: string;
  priority: string;
  expires: string;
  expireSeconds: string;
  startTime: string;
}

const EMPTY: Form = {
  name: '',
  task: '',
  description: '',
  enabled: true,
  oneOff: false,
  kind: 'crontab',
  schedule: { minute: '0', hour: '*', dayOfMonth: '*', monthOfYear: '*', dayOfWeek: '*', timezone: 'UTC' },
  args: '[]',
  kwargs: '{}',
  headers: '{}',
  queue: '',
  exchange: '',
  routingKey: '',
  priority: '',
  expires: '',
  expireSeconds: '',
  startTime: '',
};

function formOf(task: Task): Form {
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(task.schedule.fields ?? {}))
    fields[key] = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  return {
    name: task.name,
    task: task.task,
    description: task.description,
    enabled: task.enabled,
    oneOff: task.oneOff,
    kind: task.schedule.kind ?? 'crontab',
    schedule: fields,
    args: task.args,
    kwargs: task.kwargs,
    headers: task.headers,
    queue: task.queue ?? '',
    exchange: task.exchange ?? '',
    routingKey: task.routingKey ?? '',
    priority: task.priority === null ? '' : String(task.priority),
    expires: task.expires ?? '',
    expireSeconds: task.expireSeconds === null ? '' : String(task.expireSeconds),
    startTime: task.startTime ?? '',
  };
}

// The request body: JSON columns go as their text (stored exactly as typed).
function bodyOf(form: Form): Record<string, unknown> {
  const orNull = (text: string) => (text.trim() === '' ? null : text.trim());
  const numberOrNull = (text: string) => (text.trim() === '' ? null : Number(text));
  const schedule: Record<string, unknown> = {};
  for (const [key] of SCHEDULE_FIELDS[form.kind]) {
    const value = form.schedule[key] ?? '';
    schedule[key] = key === 'every' || key === 'latitude' || key === 'longitude' ? Number(value) : value;
  }
  return {
    name: form.name,
    task: form.task,
    description: form.description,
    enabled: form.enabled,
    oneOff: form.oneOff,
    [form.kind]: schedule,
    args: form.args,
    kwargs: form.kwargs,
    headers: form.headers,
    queue: orNull(form.queue),
    exchange: orNull(form.exchange),
    routingKey: orNull(form.routingKey),
    priority: numberOrNull(form.priority),
    expires: orNull(form.expires),
    expireSeconds: numberOrNull(form.expireSeconds),
    startTime: orNull(form.startTime),
  };
}

interface PreviewRun {
  utc: string;
  local: string;
  zone: string;
  dstMove: 'gap' | 'second-pass' | null;
  overdue: boolean;
}

// The UTC time alone when it falls on the same date as the local one.
function sameDay(run: PreviewRun): boolean {
  return run.utc.slice(0, 10) === run.local.slice(0, 10);
}

function Preview({ form }: { form: Form }) {
  const [runs, setRuns] = useState<PreviewRun[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const key = JSON.stringify([form.kind, form.schedule]);
  useEffect(() => {
    const timer = setTimeout(
      () =>
        void (async () => {
          try {
            const fields: Record<string, string> = {};
            for (const [name] of SCHEDULE_FIELDS[form.kind]) fields[name] = form.schedule[name] ?? '';
            const answer = await api<{ runs: PreviewRun[] }>(
              'GET',
              `/api/preview${query({ kind: form.kind, ...fields, count: 5 })}`,
            );
            setRuns(answer.runs);
            setProblem(null);
          } catch (error) {
            setRuns(null);
            setProblem(error instanceof ApiError ? error.message : String(error));
          }
        })(),
      250,
    );
    return () => clearTimeout(timer);
  }, [key]);
  return (
    <div class="preview card" aria-label="preview">
      <h3>Next 5 runs</h3>
      {problem && <p class="error">{problem}</p>}
      {runs && runs.length === 0 && <p class="muted">No run to come.</p>}
      {runs && (
        <ol>
          {runs.map((run) => (
            <li key={run.utc}>
              {wallTime(run.local)} <span class="muted">{run.zone}</span> ·{' '}
              {sameDay(run) ? wallTime(run.utc).slice(11) : wallTime(run.utc)} UTC
              {run.overdue && (
                <span class="dst" title="its time has passed: the beat sends a clocked task that never ran at once">
                  {' '}
                  passed: runs at once
                </span>
              )}
              {run.dstMove === 'gap' && (
                <span class="dst" title="moved forward out of the hour skipped by daylight saving time">
                  {' '}
                  DST: moved forward
                </span>
              )}
              {run.dstMove === 'second-pass' && (
                <span class="dst" title="the second pass of the hour repeated when clocks went back">
                  {' '}
                  DST: repeated hour
                </span>
              )}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

const ISSUE_FIELDS: Record<string, string> = {
  routing_key: 'routingKey',
  expire_seconds: 'expireSeconds',
  start_time: 'startTime',
  one_off: 'oneOff',
};

export function Editor({ id }: { id: number | null }) {
  const [form, setForm] = useState<Form | null>(id === null ? EMPTY : null);
  const [version, setVersion] = useState<string | null>(null);
  const [issues, setIssues] = useState<Issue[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState(false);

  const reload = async () => {
    if (id === null) return;
    const task = await api<Task>('GET', `/api/tasks/${id}`);
    setForm(formOf(task));
    setVersion(task.version);
    setConflict(false);
    setError(null);
    setIssues([]);
  };
  useEffect(() => {
    reload().catch((caught: unknown) => setError(String(caught)));
  }, [id]);
  if (form === null) return <p class="muted">{error ?? 'Loading…'}</p>;

  // An edit clears the problems the last save reported (the preview checks the schedule live).
  const set = (patch: Partial<Form>) => {
    setForm({ ...form, ...patch });
    setIssues([]);
  };
  const setSchedule = (key: string, value: string) => set({ schedule: { ...form.schedule, [key]: value } });
  const issueOf = (field: string) => issues.find((each) => (ISSUE_FIELDS[each.field] ?? each.field) === field)?.message;

  const save = async (event: Event) => {
    event.preventDefault();
    setIssues([]);
    setError(null);
    try {
      if (id === null) await api<Task>('POST', '/api/tasks', bodyOf(form));
      else await api<Task>('PATCH', `/api/tasks/${id}`, bodyOf(form), { 'If-Match': version ?? '' });
      location.hash = '#/tasks';
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 422) setIssues(caught.issues);
      else if (caught instanceof ApiError && caught.status === 409) setConflict(true);
      else setError(caught instanceof ApiError ? caught.message : String(caught));
    }
  };

  const text = (field: keyof Form, label: string, props: Record<string, unknown> = {}) => (
    <label class={issueOf(field) ? 'bad' : ''}>
      {label}
      <input
        name={field}
        value={form[field] as string}
        onInput={(e) => set({ [field]: e.currentTarget.value })}
        {...props}
      />
      {issueOf(field) && <span class="error small">{issueOf(field)}</span>}
    </label>
  );
  const json = (field: 'args' | 'kwargs' | 'headers', label: string) => (
    <label class={issueOf(field) ? 'bad' : ''}>
      {label}
      <textarea name={field} rows={2} value={form[field]} onInput={(e) => set({ [field]: e.currentTarget.value })} />
      {issueOf(field) && <span class="error small">{issueOf(field)}</span>}
    </label>
  );

  return (
    <form class="editor" onSubmit={(event) => void save(event)} aria-label="task editor">
      <h2>{id === null ? 'New task' : `Edit ${form.name}`}</h2>
      {conflict && (
        <p class="notice error" role="alert">
          Someone else changed this task since you opened it. Your edit was not saved.{' '}
          <button type="button" onClick={() => void reload()}>
            Load their version
          </button>
        </p>
      )}
      {error && (
        <p class="notice error" role="alert">
          {error}
        </p>
      )}
      {issues.length > 0 && (
        <ul class="notice error" role="alert" aria-label="problems">
          {issues.map((each) => (
            <li key={each.message}>{each.message}</li>
          ))}
        </ul>
      )}
      <div class="columns">
        <div>
          {text('name', 'Name')}
          {text('task', 'Celery task', { placeholder: 'proj.tasks.add' })}
          {text('description', 'Description')}
          <fieldset>
            <legend>Schedule</legend>
            <div class="tabs">
              {(['crontab', 'interval', 'solar', 'clocked'] as Kind[]).map((kind) => (
                <label key={kind} class="radio">
                  <input
                    type="radio"
                    name="kind"
                    value={kind}
                    checked={form.kind === kind}
                    onChange={() => set({ kind, oneOff: kind === 'clocked' ? true : form.oneOff })}
                  />
                  {kind}
                </label>
              ))}
            </div>
            <div class={`schedule-fields ${form.kind}`}>
              {SCHEDULE_FIELDS[form.kind].map(([key, label, placeholder]) => (
                <label key={key} class={issueOf(`${form.kind}.${key}`) ? 'bad' : ''}>
                  {label}
                  <input
                    name={`${form.kind}.${key}`}
                    placeholder={placeholder}
                    value={form.schedule[key] ?? ''}
                    onInput={(e) => setSchedule(key, e.currentTarget.value)}
                  />
                </label>
              ))}
            </div>
          </fieldset>
          {json('args', 'Args (JSON list)')}
          {json('kwargs', 'Kwargs (JSON object)')}
        </div>
        <div>
          <Preview form={form} />
          <div class="grid2">
            {text('queue', 'Queue', { placeholder: 'celery' })}
            {text('exchange', 'Exchange')}
            {text('routingKey', 'Routing key')}
            {text('priority', 'Priority (0-255)')}
            {text('startTime', 'Start time (ISO)')}
            {text('expires', 'Expires (ISO)')}
            {text('expireSeconds', 'Expire seconds')}
          </div>
          {json('headers', 'Headers (JSON object)')}
          <label class="check">
            <input
              type="checkbox"
              name="enabled"
              checked={form.enabled}
              onChange={(e) => set({ enabled: e.currentTarget.checked })}
            />{' '}
            Enabled
          </label>
          <label class="check">
            <input
              type="checkbox"
              name="oneOff"
              checked={form.oneOff}
              onChange={(e) => set({ oneOff: e.currentTarget.checked })}
            />{' '}
            One-off (disable after its run)
          </label>
        </div>
      </div>
      <div class="buttons">
        <button type="submit" class="primary">
          Save
        </button>
        <a class="button" href="#/tasks">
          Cancel
        </a>
      </div>
    </form>
  );
}
