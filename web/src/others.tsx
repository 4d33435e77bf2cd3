// The schedules page (each schedule row and the tasks that use it) and the beats
// page (which beat leads, by the lease in the database).
import { useEffect, useState } from 'preact/hooks';

import { ApiError, api, wallTime } from './api.js';

type ScheduleRow = Record<string, unknown> & { id: number; tasks: { id: number; name: string }[] };

function describe(kind: string, row: ScheduleRow): string {
  const f = (key: string): string => String(row[key]);
  switch (kind) {
    case 'crontab':
      return `${f('minute')} ${f('hour')} ${f('day_of_month')} ${f('month_of_year')} ${f('day_of_week')} (${f('timezone')})`;
    case 'interval':
      return `every ${f('every')} ${f('period')}`;
    case 'solar':
      return `${f('event')} at ${f('latitude')}, ${f('longitude')}`;
    default:
      return `once at ${f('clocked_time')}`;
  }
}

export function Schedules() {
  const [data, setData] = useState<Record<string, ScheduleRow[]> | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const load = async () => setData(await api<Record<string, ScheduleRow[]>>('GET', '/api/schedules'));
  useEffect(() => void load().catch((error: unknown) => setNotice(String(error))), []);
  const remove = async (kind: string, id: number) => {
    try {
      await api('DELETE', `/api/schedules/${kind}/${id}`);
      setNotice(`Deleted ${kind} schedule ${id}`);
      await load();
    } catch (error) {
      setNotice(error instanceof ApiError ? error.message : String(error));
    }
  };
  if (data === null) return <p class="muted">{notice ?? 'Loading…'}</p>;
  return (
    <section>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {Object.entries(data).map(([kind, rows]) => (
        <div key={kind} class="card">
          <h3>
            {kind} ({rows.length})
          </h3>
          <table>
            <thead>
              <tr>
                <th>Id</th>
                <th>Schedule</th>
                <th>Used by</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id}>
                  <td class="num">{row.id}</td>
                  <td class="mono">{describe(kind, row)}</td>
                  <td>
                    {row.tasks.length === 0 ? (
                      <span class="muted">no task</span>
                    ) : (
                      row.tasks.slice(0, 5).map((task) => (
                        <a key={task.id} class="tag" href={`#/tasks/${task.id}`}>
                          {task.name}
                        </a>
                      ))
                    )}
                    {row.tasks.length > 5 && ` and ${row.tasks.length - 5} more`}
                  </td>
                  <td>
                    {row.tasks.length === 0 && (
                      <button type="button" class="danger" onClick={() => void remove(kind, row.id)}>
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}

interface Group {
  name: string;
  leader: string | null;
  lastHolder: string;
  fencingToken: string;
  leaseExpires: { utc: string };
  valid: boolean;
}

interface BeatRow {
  instance: string;
  group: string;
  role: 'leader' | 'standby' | 'gone';
  hostname: string;
  pid: number;
  version: string;
  startedAt: string;
  lastSeen: string;
}

interface BeatsAnswer {
  now: string;
  groups: Group[];
  beats: BeatRow[];
}

export function Beats() {
  const [data, setData] = useState<BeatsAnswer | null>(null);
  useEffect(() => {
    const load = () => void api<BeatsAnswer>('GET', '/api/beats').then(setData);
    load();
    const timer = setInterval(load, 2000);
    return () => clearInterval(timer);
  }, []);
  if (data === null) return <p class="muted">Loading…</p>;
  return (
    <section class="card">
      <h3>Beats</h3>
      <p class="muted small">
        One beat of each group leads (it holds the lease in the database); the others stand by and take over within
        about one lease time when it stops renewing. Database time: {wallTime(data.now)} UTC.
      </p>
      {data.groups.length === 0 && <p>No beat has run on this database yet.</p>}
      <table>
        <thead>
          <tr>
            <th>Group</th>
            <th>Leader</th>
            <th>Fencing token</th>
            <th>Lease until (UTC)</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {data.groups.map((group) => (
            <tr key={group.name}>
              <td>{group.name}</td>
              <td class="mono">{group.leader ?? <span class="muted">none (last: {group.lastHolder})</span>}</td>
              <td class="num">{group.fencingToken}</td>
              <td>{group.leaseExpires.utc.slice(0, 23).replace('T', ' ')}</td>
              <td>
                {group.valid ? (
                  <span class="pill on">leading</span>
                ) : (
                  <span class="pill">no leader: standbys take over</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Running beats</h3>
      {data.beats.length === 0 && <p>No beat records itself on this database.</p>}
      <table>
        <thead>
          <tr>
            <th>Role</th>
            <th>Host</th>
            <th>PID</th>
            <th>Group</th>
            <th>Started (UTC)</th>
            <th>Last seen (UTC)</th>
            <th>Version</th>
          </tr>
        </thead>
        <tbody>
          {data.beats.map((beat) => (
            <tr key={beat.instance} class={beat.role === 'gone' ? 'muted' : ''} title={beat.instance}>
              <td>
                <span class={beat.role === 'leader' ? 'pill on' : 'pill'}>
                  {beat.role === 'gone' ? 'gone (not seen)' : beat.role}
                </span>
              </td>
              <td class="mono">{beat.hostname}</td>
              <td class="num">{beat.pid}</td>
              <td>{beat.group}</td>
              <td>{beat.startedAt.slice(0, 19).replace('T', ' ')}</td>
              <td>{beat.lastSeen.slice(0, 19).replace('T', ' ')}</td>
              <td>{beat.version}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
