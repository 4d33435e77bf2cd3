// The console's REST API against real PostgreSQL and a private Redis: every
// endpoint, validation (422 naming field and value, nothing written), 401, 403
// (CSRF, cross-site), 409 (a concurrent edit by the API or by SQL), the audit log,
// and no secret in any answer or log line.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any --
   The answers are read as loose JSON (`any`) and checked field by field by the assertions. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Redis } from 'ioredis';

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { HttpConfigError, checkBindAddress } from '../../src/http/auth.js';
import { PASSWORD, TOKEN, type TestConsole, USER, bearer, startTestConsole } from './support.js';

let t: TestConsole;
const answers: string[] = [];

before(async () => {
  t = await startTestConsole();
});
after(async () => {
  await t?.close();
});

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
async function call(method: Method, url: string, body?: unknown, headers: Record<string, string> = bearer) {
  const response = await t.app.inject({
    method,
    url,
    headers: {
      ...headers,
      ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined && { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  answers.push(response.body);
  return {
    status: response.statusCode,
    json: response.body === '' ? undefined : response.json<Record<string, any>>(),
    headers: response.headers,
  };
}

async function count(): Promise<number> {
  const [row] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM django_celery_beat_periodictask');
  return row!.n;
}

const report = {
  name: 'report',
  task: 'tasks.report',
  crontab: { minute: '*/15', hour: '9-17', dayOfWeek: 'mon-fri', timezone: 'Asia/Shanghai' },
  description: 'the daily report',
};

describe('console API', () => {
  test('401 without or with wrong credentials; bearer and basic auth work', async () => {
    assert.equal((await call('GET', '/api/tasks', undefined, {})).status, 401);
    assert.equal(
      (await call('GET', '/api/tasks', undefined, { authorization: 'Bearer wrong-token-123456789' })).status,
      401,
    );
    const wrongBasic = `Basic ${Buffer.from(`${USER}:nope`).toString('base64')}`;
    assert.equal((await call('GET', '/api/tasks', undefined, { authorization: wrongBasic })).status, 401);
    assert.equal((await call('POST', '/api/tasks', report, {})).status, 401);
    const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
    assert.equal((await call('GET', '/api/tasks', undefined, { authorization: basic })).status, 200);
    assert.equal((await call('GET', '/api/tasks')).status, 200);
    assert.equal(await count(), 0);
  });

  test('the OpenAPI document is served and lists every endpoint', async () => {
    const { status, json } = await call('GET', '/api/openapi.json', undefined, {});
    assert.equal(status, 200);
    assert.equal(json!.openapi, '3.0.3');
    for (const path of [
      '/api/tasks',
      '/api/tasks/{id}',
      '/api/tasks/{id}/run',
      '/api/tasks/bulk',
      '/api/preview',
      '/api/schedules',
      '/api/schedules/{kind}/{id}',
      '/api/beats',
      '/api/session',
    ]) {
      assert.ok(json!.paths[path], `${path} is documented`);
    }
    assert.ok(json!.paths['/api/tasks'].post.responses['422']);
  });

  test('POST creates a task: readable schedule, next run in its zone and in UTC, JSON kept as sent', async () => {
    const before = new Date();
    const { status, json } = await call(
      'POST',
      '/api/tasks',
      `{"name":"report","task":"tasks.report","crontab":{"minute":"*/15","hour":"9-17","dayOfWeek":"mon-fri","timezone":"Asia/Shanghai"},"description":"the daily report","args":[12345678901234567890, 1.0, 1e16, -0.0],"kwargs":{"big": 9007199254740993}}`,
      { ...bearer, 'content-type': 'application/json' },
    );
    assert.equal(status, 201, JSON.stringify(json));
    assert.equal(json!.name, 'report');
    assert.equal(json!.schedule.text, '*/15 9-17 * * mon-fri (Asia/Shanghai)');
    assert.equal(json!.args, '[12345678901234567890, 1.0, 1e16, -0.0]');
    assert.equal(json!.kwargs, '{"big": 9007199254740993}');
    const [row] = await t.db.query<{ args: string; kwargs: string }>(
      "SELECT args, kwargs FROM django_celery_beat_periodictask WHERE name = 'report'",
    );
    assert.equal(row!.args, '[12345678901234567890, 1.0, 1e16, -0.0]');
    assert.equal(row!.kwargs, '{"big": 9007199254740993}');
    // The next run is the engine's: a quarter hour, 09:00-17:45 Shanghai time on a weekday.
    const next = new Date(json!.nextRun.utc);
    assert.ok(next > before);
    assert.equal(json!.nextRun.zone, 'Asia/Shanghai');
    assert.match(json!.nextRun.local, /T(09|1[0-7]):(00|15|30|45):00\+08:00$/);
    assert.equal(new Date(json!.nextRun.local).getTime(), next.getTime());
    assert.equal(json!.valid, true);
    assert.equal(json!.lastRunAt, null);
    assert.equal(json!.totalRunCount, 0);
  });

  test('422 names the field and the value, and nothing is written', async () => {
    const before = await count();
    const cases: [unknown, string, unknown][] = [
      [{ ...report, name: 'bad minute', crontab: { minute: '61' } }, 'crontab.minute', '61'],
      [{ ...report, name: 'bad zone', crontab: { timezone: 'Mars/Olympus' } }, 'crontab.timezone', 'Mars/Olympus'],
      [{ ...report, name: 'bad args', args: { not: 'a list' } }, 'args', '{"not":"a list"}'],
      [{ ...report, name: 'bad args text', args: '[1, 2' }, 'args', '[1, 2'],
      [
        { ...report, name: 'two schedules', interval: { every: 5, period: 'seconds' } },
        'schedule',
        ['interval', 'crontab'],
      ],
      [{ name: 'no schedule', task: 'x' }, 'schedule', null],
      [{ ...report }, 'name', 'report'],
      [{ ...report, name: 'bad priority', priority: 300 }, 'priority', 300],
      [{ ...report, name: 'bad date', expires: 'tomorrow' }, 'expires', 'tomorrow'],
      [{ ...report, name: 'unknown', colour: 'blue' }, 'colour', 'blue'],
      [
        {
          ...report,
          name: 'clocked',
          crontab: undefined,
          clocked: { clockedTime: '2030-01-01T00:00:00Z' },
          oneOff: false,
        },
        'one_off',
        false,
      ],
      [{ ...report, name: 'both expiries', expires: '2030-01-01T00:00:00Z', expireSeconds: 60 }, 'expire_seconds', 60],
    ];
    for (const [body, field, value] of cases) {
      const { status, json } = await call('POST', '/api/tasks', body);
      assert.equal(status, 422, `${JSON.stringify(body)} → ${status}`);
      const issue = json!.issues.find((each: { field: string }) => each.field === field);
      assert.ok(issue, `${JSON.stringify(json)} names ${field}`);
      assert.deepEqual(issue.value, value);
      assert.ok(
        issue.message.startsWith(
          field === 'schedule' && Array.isArray(value)
            ? 'interval, crontab'
            : field === 'expire_seconds'
              ? 'expires, expire_seconds'
              : field,
        ),
        issue.message,
      );
    }
    assert.equal(
      (await call('POST', '/api/tasks', '{"name": ', { ...bearer, 'content-type': 'application/json' })).status,
      400,
    );
    assert.equal(await count(), before);
  });

  test('GET /api/tasks: filters, search, sorting, pagination; GET one; 404', async () => {
    for (const [name, body] of [
      ['every ten', { task: 'tasks.tick', interval: { every: 10, period: 'seconds' }, queue: 'fast' }],
      [
        'sunrise',
        { task: 'tasks.sun', solar: { event: 'sunrise', latitude: 52.52, longitude: 13.405 }, enabled: false },
      ],
      [
        'later',
        { task: 'tasks.once', clocked: { clockedTime: '2030-05-01T10:00:00Z' }, description: 'Report backfill' },
      ],
    ] as const) {
      const { status } = await call('POST', '/api/tasks', { name, ...body });
      assert.equal(status, 201);
    }
    const names = async (query: string) =>
      (await call('GET', `/api/tasks${query}`)).json!.items.map((task: { name: string }) => task.name);
    assert.deepEqual(await names(''), ['every ten', 'later', 'report', 'sunrise']);
    assert.deepEqual(await names('?enabled=false'), ['sunrise']);
    assert.deepEqual(await names('?kind=interval'), ['every ten']);
    assert.deepEqual(await names('?queue=fast'), ['every ten']);
    assert.deepEqual(await names('?task=tasks.report'), ['report']);
    assert.deepEqual(await names('?q=REPORT'), ['later', 'report']); // name or description
    assert.deepEqual(await names('?sort=name&order=desc&limit=2'), ['sunrise', 'report']);
    const page = (await call('GET', '/api/tasks?sort=name&limit=2&offset=2')).json!;
    assert.equal(page.total, 4);
    assert.deepEqual(
      page.items.map((task: { name: string }) => task.name),
      ['report', 'sunrise'],
    );
    const bad = await call('GET', '/api/tasks?limit=0&sort=colour');
    assert.equal(bad.status, 422);
    assert.deepEqual(bad.json!.issues.map((issue: { field: string }) => issue.field).sort(), ['limit', 'sort']);

    const list = (await call('GET', '/api/tasks')).json!.items as Record<string, any>[];
    const sunrise = list.find((task) => task.name === 'sunrise')!;
    assert.equal(sunrise.nextRun, null, 'disabled: no next run');
    assert.equal(sunrise.schedule.text, 'sunrise at 52.52, 13.405');
    const later = list.find((task) => task.name === 'later')!;
    assert.equal(later.nextRun.utc, '2030-05-01T10:00:00.000Z');
    assert.equal(later.oneOff, true, 'clocked implies one-off');
    const one = await call('GET', `/api/tasks/${later.id}`);
    assert.equal(one.json!.name, 'later');
    assert.equal((await call('GET', '/api/tasks/999999')).status, 404);
  });

  test('an invalid row written by SQL is listed with its problem', async () => {
    const [crontab] = await t.db.query<{ id: number }>(
      "INSERT INTO django_celery_beat_crontabschedule (minute, hour, day_of_week, day_of_month, month_of_year, timezone) VALUES ('99', '*', '*', '*', '*', 'UTC') RETURNING id",
    );
    await t.db.query(
      `INSERT INTO django_celery_beat_periodictask (name, task, args, kwargs, crontab_id, enabled, one_off, total_run_count, date_changed, description, headers)
       VALUES ('broken', 'tasks.x', '[]', '{}', $1, true, false, 0, now(), '', '{}')`,
      [crontab!.id],
    );
    const [broken] = (await call('GET', '/api/tasks?q=broken')).json!.items;
    assert.equal(broken.valid, false);
    assert.match(broken.problem, /crontab\.minute: "99"/);
    assert.equal(broken.nextRun, null);
    await t.db.query("DELETE FROM django_celery_beat_periodictask WHERE name = 'broken'");
  });

  test('PATCH needs the version: 428 without, 409 when another edit (API or SQL) came first; the SQL edit shows at once', async () => {
    const [report] = (await call('GET', '/api/tasks?q=the daily')).json!.items;
    assert.equal((await call('PATCH', `/api/tasks/${report.id}`, { description: 'no version' })).status, 428);

    const first = await call(
      'PATCH',
      `/api/tasks/${report.id}`,
      { description: 'edited by Ann', crontab: { minute: '0', hour: '8', timezone: 'Europe/Berlin' } },
      { ...bearer, 'if-match': `"${report.version}"` },
    );
    assert.equal(first.status, 200, JSON.stringify(first.json));
    assert.equal(first.json!.description, 'edited by Ann');
    assert.equal(first.json!.schedule.text, '0 8 * * * (Europe/Berlin)');
    assert.notEqual(first.json!.version, report.version);
    assert.equal(first.json!.args, '[12345678901234567890, 1.0, 1e16, -0.0]', 'untouched JSON stays as it was');

    // Bob edits from the version he read before Ann saved: refused, Ann's edit stays.
    const second = await call('PATCH', `/api/tasks/${report.id}`, {
      description: 'edited by Bob',
      version: report.version,
    });
    assert.equal(second.status, 409);
    assert.equal(second.json!.currentVersion, first.json!.version);
    assert.equal((await call('GET', `/api/tasks/${report.id}`)).json!.description, 'edited by Ann');

    // An edit in SQL (as Django admin or psql would make it) changes the version, and shows at the next read.
    await t.db.query("UPDATE django_celery_beat_periodictask SET description = 'edited in SQL' WHERE id = $1", [
      report.id,
    ]);
    const reread = (await call('GET', `/api/tasks/${report.id}`)).json!;
    assert.equal(reread.description, 'edited in SQL');
    const stale = await call('PATCH', `/api/tasks/${report.id}`, {
      description: 'lost?',
      version: first.json!.version,
    });
    assert.equal(stale.status, 409);
    assert.equal((await call('GET', `/api/tasks/${report.id}`)).json!.description, 'edited in SQL');

    // The beat's bookkeeping (a run recorded) is not an edit: no conflict.
    await t.db.query(
      'UPDATE django_celery_beat_periodictask SET last_run_at = now(), total_run_count = total_run_count + 1 WHERE id = $1',
      [report.id],
    );
    const ok = await call('PATCH', `/api/tasks/${report.id}`, { description: 'after a run', version: reread.version });
    assert.equal(ok.status, 200);

    // A bad edit is 422 and writes nothing.
    const bad = await call('PATCH', `/api/tasks/${report.id}`, { crontab: { hour: '25' }, version: ok.json!.version });
    assert.equal(bad.status, 422);
    assert.equal(bad.json!.issues[0].field, 'crontab.hour');
    assert.equal((await call('GET', `/api/tasks/${report.id}`)).json!.schedule.text, '0 8 * * * (Europe/Berlin)');
    assert.equal((await call('PATCH', '/api/tasks/999999', { description: 'x', version: 'v' })).status, 404);
  });

  test('run now sends one message marked manual through the broker; the schedule is not changed', async () => {
    const [report] = (await call('GET', '/api/tasks?task=tasks.report')).json!.items;
    const before = (await call('GET', `/api/tasks/${report.id}`)).json!;
    const { status, json } = await call('POST', `/api/tasks/${report.id}/run`);
    assert.equal(status, 200);
    assert.match(json!.taskId, /^[0-9a-f-]{36}$/);
    const redis = new Redis(t.redis.url());
    try {
      const raw = await redis.lrange('celery', 0, -1);
      assert.equal(raw.length, 1);
      const envelope = JSON.parse(raw[0]!);
      assert.equal(envelope.headers.id, json!.taskId);
      assert.equal(envelope.headers.task, 'tasks.report');
      assert.equal(envelope.headers.periodic_task_name, 'report');
      assert.equal(envelope.headers.dbbeat_manual_run, 'token');
      assert.equal(envelope.headers.dbbeat_scheduled_at, undefined);
      assert.equal(envelope.properties.correlation_id, json!.taskId);
    } finally {
      redis.disconnect();
    }
    const afterRun = (await call('GET', `/api/tasks/${report.id}`)).json!;
    assert.equal(afterRun.totalRunCount, before.totalRunCount);
    assert.equal(afterRun.lastRunAt, before.lastRunAt);
    assert.equal(afterRun.version, before.version);
    assert.equal((await call('POST', '/api/tasks/999999/run')).status, 404);
  });

  test('bulk enable, disable, delete; DELETE one with If-Match', async () => {
    const items = (await call('GET', '/api/tasks')).json!.items as {
      id: number;
      name: string;
      enabled: boolean;
      version: string;
    }[];
    const ids = items.map((task) => task.id);
    const disabled = await call('POST', '/api/tasks/bulk', { action: 'disable', ids });
    assert.equal(disabled.status, 200);
    assert.equal(disabled.json!.changed.length, items.filter((task) => task.enabled).length);
    assert.deepEqual((await call('GET', '/api/tasks?enabled=true')).json!.items, []);
    const enabled = await call('POST', '/api/tasks/bulk', { action: 'enable', ids });
    assert.equal(enabled.json!.changed.length, items.length);
    assert.equal((await call('POST', '/api/tasks/bulk', { action: 'explode', ids })).status, 422);
    assert.equal((await call('POST', '/api/tasks/bulk', { action: 'enable', ids: ['x'] })).status, 422);

    const later = (await call('GET', '/api/tasks?q=later')).json!.items[0];
    assert.equal(
      (await call('DELETE', `/api/tasks/${later.id}`, undefined, { ...bearer, 'if-match': 'stale' })).status,
      409,
    );
    assert.equal(
      (await call('DELETE', `/api/tasks/${later.id}`, undefined, { ...bearer, 'if-match': later.version })).status,
      200,
    );
    assert.equal((await call('DELETE', `/api/tasks/${later.id}`)).status, 404);
    const sunrise = (await call('GET', '/api/tasks?q=sunrise')).json!.items[0];
    const removed = await call('POST', '/api/tasks/bulk', { action: 'delete', ids: [sunrise.id] });
    assert.deepEqual(removed.json!.changed, [{ id: sunrise.id, name: 'sunrise' }]);
  });

  test('preview: the next runs of an unsaved schedule, DST moves marked; 422 naming the field', async () => {
    const { status, json } = await call(
      'GET',
      '/api/preview?kind=crontab&minute=30&hour=2&timezone=America/New_York&after=2026-03-07T00:00:00Z&count=3',
    );
    assert.equal(status, 200);
    assert.deepEqual(
      json!.runs.map((run: { utc: string; dstMove: string | null }) => [run.utc, run.dstMove]),
      [
        ['2026-03-07T07:30:00.000Z', null],
        ['2026-03-08T07:30:00.000Z', 'gap'],
        ['2026-03-09T06:30:00.000Z', null],
      ],
    );
    assert.equal(json!.runs[1].local, '2026-03-08T03:30:00-04:00');
    const fallBack = await call(
      'GET',
      '/api/preview?kind=crontab&minute=0,30&hour=*&timezone=America/New_York&after=2026-11-01T05:59:00Z&count=3',
    );
    // 06:00Z and 06:30Z are 01:00 and 01:30 EST, the second pass of the repeated hour; 07:00Z is 02:00 EST.
    assert.deepEqual(
      fallBack.json!.runs.map((run: { dstMove: string | null }) => run.dstMove),
      ['second-pass', 'second-pass', null],
    );
    const interval = await call(
      'GET',
      '/api/preview?kind=interval&every=90&period=seconds&after=2026-01-01T00:00:00Z&count=2',
    );
    assert.deepEqual(
      interval.json!.runs.map((run: { utc: string }) => run.utc),
      ['2026-01-01T00:01:30.000Z', '2026-01-01T00:03:00.000Z'],
    );
    const bad = await call('GET', '/api/preview?kind=crontab&minute=*/0');
    assert.equal(bad.status, 422);
    assert.equal(bad.json!.issues[0].field, 'crontab.minute');
    assert.equal(bad.json!.issues[0].value, '*/0');
    assert.equal((await call('GET', '/api/preview?kind=weekly')).json!.issues[0].field, 'kind');
    // Times are read as a saved task's are: ISO 8601 with a zone. `new Date` took "1" as the
    // year 2001, a time without a zone in the server's zone, and the message showed no value.
    for (const [query, field, value] of [
      ['kind=crontab&after=1', 'after', '1'],
      ['kind=crontab&after=2026-03-08T02:30', 'after', '2026-03-08T02:30'],
      ['kind=clocked&clockedTime=garbage', 'clocked.clockedTime', 'garbage'],
      ['kind=clocked&clockedTime=2026-12-01T10:00', 'clocked.clockedTime', '2026-12-01T10:00'],
    ] as const) {
      const refused = await call('GET', `/api/preview?${query}`);
      assert.equal(refused.status, 422, query);
      assert.deepEqual(refused.json!.issues, [
        {
          field,
          value,
          message: `${field}: "${value}" is not an ISO 8601 date and time with a zone (e.g. 2026-12-01T09:00:00Z)`,
        },
      ]);
    }
    const clocked = await call('GET', '/api/preview?kind=clocked&clockedTime=2030-01-01T10:00:00%2B08:00');
    assert.deepEqual(
      clocked.json!.runs.map((run: { utc: string }) => run.utc),
      ['2030-01-01T02:00:00.000Z'],
    );
  });

  test('schedules: each row with its tasks; deleting a used one is refused (409), an unused one works', async () => {
    const { json } = await call('GET', '/api/schedules');
    const used = json!.crontab.find((row: { tasks: unknown[] }) => row.tasks.length > 0);
    assert.ok(used.tasks.some((task: { name: string }) => task.name === 'report'));
    const refused = await call('DELETE', `/api/schedules/crontab/${used.id}`);
    assert.equal(refused.status, 409);
    assert.match(refused.json!.error, /"report"/);
    const unused = json!.crontab.find((row: { tasks: unknown[] }) => row.tasks.length === 0);
    assert.equal((await call('DELETE', `/api/schedules/crontab/${unused.id}`)).status, 204);
    assert.equal((await call('DELETE', '/api/schedules/weekly/1')).status, 404);
  });

  test('beats: the lease holder is shown as leader', async () => {
    await t.db.query(
      "INSERT INTO dbbeat_lease (name, holder, token, expires_at) VALUES ('default', 'host-a:123:abcd', 7, now() + interval '5 seconds')",
    );
    const { json } = await call('GET', '/api/beats');
    assert.equal(json!.groups[0].leader, 'host-a:123:abcd');
    assert.equal(json!.groups[0].fencingToken, '7');
    assert.equal(json!.groups[0].valid, true);
    await t.db.query("UPDATE dbbeat_lease SET expires_at = now() - interval '1 second'");
    assert.equal((await call('GET', '/api/beats')).json!.groups[0].leader, null);
  });

  test('beats: every recorded beat is listed, the lease holder first, then standbys, then gone ones', async () => {
    await t.db.query('DELETE FROM dbbeat_lease');
    await t.db.query(
      "INSERT INTO dbbeat_lease (name, holder, token, expires_at) VALUES ('default', 'host-b:2:bb', 3, now() + interval '5 seconds')",
    );
    await t.db
      .query(`INSERT INTO dbbeat_beat (instance, lease_name, hostname, pid, version, role, lease_seconds, started_at, seen_at) VALUES
      ('host-a:1:aa', 'default', 'host-a', 1, '0.1.0', 'standby', 5, now() - interval '1 hour', now()),
      ('host-b:2:bb', 'default', 'host-b', 2, '0.1.0', 'leader', 5, now() - interval '2 minutes', now() - interval '1 second'),
      ('host-c:3:cc', 'default', 'host-c', 3, '0.1.0', 'leader', 5, now() - interval '1 day', now() - interval '16 seconds')`);
    const beats = (await call('GET', '/api/beats')).json!.beats as {
      instance: string;
      role: string;
      hostname: string;
      pid: number;
    }[];
    assert.deepEqual(
      beats.map((row) => [row.hostname, row.pid, row.role]),
      [
        ['host-b', 2, 'leader'],
        ['host-a', 1, 'standby'],
        ['host-c', 3, 'gone'],
      ],
    );
    await t.db.query('DELETE FROM dbbeat_beat');
    await t.db.query('DELETE FROM dbbeat_lease');
  });

  test('the page session: login sets an HttpOnly cookie; writes need its CSRF token (403 without); cross-site writes are refused', async () => {
    assert.equal((await call('POST', '/api/session', { token: 'wrong-wrong-wrong-wrong' }, {})).status, 401);
    const login = await call('POST', '/api/session', { username: USER, password: PASSWORD }, {});
    assert.equal(login.status, 200);
    assert.equal(login.json!.user, USER);
    const setCookie = String(login.headers['set-cookie']);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    const cookie = setCookie.split(';')[0]!;
    const csrf = login.json!.csrfToken as string;
    const session = await call('GET', '/api/session', undefined, { cookie });
    assert.equal(session.json!.csrfToken, csrf);

    assert.equal((await call('GET', '/api/tasks', undefined, { cookie })).status, 200);
    const body = { name: 'from the page', task: 'tasks.page', interval: { every: 1, period: 'hours' } };
    assert.equal((await call('POST', '/api/tasks', body, { cookie })).status, 403);
    assert.equal((await call('POST', '/api/tasks', body, { cookie, 'x-csrf-token': 'forged' })).status, 403);
    assert.equal(
      (await call('POST', '/api/tasks', body, { cookie, 'x-csrf-token': csrf, origin: 'https://evil.example' })).status,
      403,
    );
    assert.equal((await call('POST', '/api/tasks', body, { ...bearer, 'sec-fetch-site': 'cross-site' })).status, 403);
    const created = await call('POST', '/api/tasks', body, {
      cookie,
      'x-csrf-token': csrf,
      origin: 'http://localhost:80',
      host: 'localhost:80',
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));

    assert.equal((await call('DELETE', '/api/session', undefined, { cookie })).status, 204);
    assert.equal((await call('GET', '/api/tasks', undefined, { cookie })).status, 401);
  });

  test('every write is logged with who and what changed; no secret in any answer or log line', () => {
    const writes = t.logs.filter((line) => typeof line.action === 'string');
    const created = writes.find(
      (line) => line.action === 'created' && (line.task as { name: string }).name === 'from the page',
    )!;
    assert.equal(created.who, USER);
    const updated = writes.find(
      (line) => line.action === 'updated' && (line.changes as Record<string, unknown>).description !== undefined,
    )!;
    assert.equal(updated.who, 'token');
    assert.deepEqual((updated.changes as Record<string, unknown>).description, {
      from: 'the daily report',
      to: 'edited by Ann',
    });
    assert.ok((updated.changes as Record<string, unknown>).schedule);
    for (const action of ['ran', 'disabled', 'enabled', 'deleted'])
      assert.ok(
        writes.some((line) => line.action === action),
        `${action} is logged`,
      );
    const everything = [...answers, ...t.logs.map((line) => JSON.stringify(line))].join('\n');
    for (const secret of [TOKEN, PASSWORD, t.temp.url, t.redis.url()])
      assert.ok(!everything.includes(secret), `${secret} leaked`);
  });
});

describe('console without credentials', () => {
  test('refuses a non-loopback address, and answers only requests to a loopback host', async () => {
    const none = { token: undefined, users: new Map<string, string>(), required: false };
    assert.throws(
      () => checkBindAddress('0.0.0.0', none),
      (error: unknown) =>
        error instanceof HttpConfigError && /refusing to listen on 0\.0\.0\.0 without credentials/.test(error.message),
    );
    assert.doesNotThrow(() => checkBindAddress('0.0.0.0', { ...none, token: TOKEN, required: true }));
    assert.doesNotThrow(() => checkBindAddress('::1', none));
    // The command line: exit 2 with what to do, before opening anything.
    const bin = fileURLToPath(new URL('../../bin/dbbeat.js', import.meta.url));
    const env = { ...process.env, DBBEAT_HTTP_TOKEN: '', DBBEAT_HTTP_USER: '', DATABASE_URL: t.temp.url };
    const serve = spawnSync(process.execPath, [bin, 'serve', '--http', '0.0.0.0:0'], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(serve.status, 2, serve.stderr);
    assert.match(
      serve.stderr,
      /^dbbeat serve: refusing to listen on 0\.0\.0\.0 without credentials: .*Set DBBEAT_HTTP_TOKEN/,
    );
    const open = await startTestConsole({ auth: none });
    try {
      const get = (host: string) => open.app.inject({ method: 'GET', url: '/api/tasks', headers: { host } });
      assert.equal((await get('127.0.0.1:8765')).statusCode, 200);
      assert.equal((await get('localhost:8765')).statusCode, 200);
      assert.equal((await get('attacker.example:8765')).statusCode, 403, 'DNS rebinding refused');
      // Writes still need a session's CSRF token.
      const write = {
        method: 'POST' as const,
        url: '/api/tasks/bulk',
        headers: { host: '127.0.0.1', 'content-type': 'application/json' },
        payload: '{"action":"enable","ids":[1]}',
      };
      assert.equal((await open.app.inject(write)).statusCode, 403);
      const login = await open.app.inject({
        method: 'POST',
        url: '/api/session',
        headers: { host: '127.0.0.1', 'content-type': 'application/json' },
        payload: '{}',
      });
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      const ok = await open.app.inject({
        ...write,
        headers: { ...write.headers, cookie, 'x-csrf-token': login.json().csrfToken },
      });
      assert.equal(ok.statusCode, 200);
    } finally {
      await open.close();
    }
  });
});
