// Every console route answers the same on every dialect (test/support/dialects.ts): the
// task list (filters, search, sort with NULLs, paging, total), one task, create, edit with
// its version (428, 409 after an edit in SQL, 422), delete with If-Match, run now (on a
// private Redis), bulk actions, schedules with their tasks and their deletion, beats and
// leases by the database's clock, preview. Times read as the instants written, MySQL's
// 0/1 flags as booleans.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any --
   The answers are read as loose JSON (`any`) and checked field by field by the assertions. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Redis } from 'ioredis';
import pino from 'pino';

import { connectBroker } from '../../src/broker/index.js';
import type { Broker } from '../../src/broker/types.js';
import { migrate } from '../../src/db/migrate.js';
import { openDatabase, type OpenDatabase } from '../../src/db/open.js';
import { buildConsoleServer, type ConsoleContext } from '../../src/http/server.js';
import { testDialects } from '../support/dialects.js';
import { withPrivateRedis } from '../support/private-redis.js';
import { bearer, testAuth } from './support.js';

const privateRedis = withPrivateRedis();

for (const dialect of testDialects) {
  describe(`console API on ${dialect.name}`, () => {
    let temp: { url: string; drop(): Promise<void> };
    let db: OpenDatabase;
    let broker: Broker;
    let app: Awaited<ReturnType<typeof buildConsoleServer>>['app'];
    let context: ConsoleContext;

    before(async () => {
      temp = await dialect.create('dbbeat_api_list');
      db = await openDatabase({ databaseUrl: temp.url });
      await migrate(db);
      await dialect.insertTask(db, {
        name: 'Alpha report',
        schedule: { crontab: { minute: '0', hour: '3' } },
        queue: 'reports',
        lastRunAt: new Date('2026-11-30T03:00:00.125Z'),
      });
      await dialect.insertTask(db, {
        name: 'beta',
        schedule: { interval: { every: 10, period: 'seconds' } },
        enabled: false,
      });
      await dialect.insertTask(db, { name: 'gamma', schedule: { interval: { every: 60, period: 'seconds' } } });
      broker = await connectBroker(privateRedis().url(dialect.name === 'postgres' ? 1 : 2));
      ({ app, context } = await buildConsoleServer({
        database: db,
        broker,
        auth: testAuth(),
        host: '127.0.0.1',
        port: 0,
        log: pino({ level: 'silent' }),
      }));
      await app.ready();
    });
    after(async () => {
      await app.close();
      await context.prisma.$disconnect();
      await broker.close();
      await db.close();
      await temp.drop();
    });

    async function list(query: string): Promise<{ total: number; names: string[]; items: Record<string, unknown>[] }> {
      const response = await app.inject({ method: 'GET', url: `/api/tasks${query}`, headers: bearer });
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json<{ total: number; items: Record<string, unknown>[] }>();
      return { total: body.total, names: body.items.map((item) => String(item.name)), items: body.items };
    }

    test('every task by name, with total, flags and times', async () => {
      const all = await list('');
      assert.deepEqual([all.total, all.names], [3, ['Alpha report', 'beta', 'gamma']]);
      assert.deepEqual(
        all.items.map((item) => item.enabled),
        [true, false, true],
      );
      assert.match(JSON.stringify(all.items[0]), /2026-11-30T03:00:00\.125Z/);
    });

    test('filters, case-insensitive search, exact queue, sort and paging', async () => {
      assert.deepEqual((await list('?enabled=false')).names, ['beta']);
      assert.deepEqual((await list('?kind=interval')).names, ['beta', 'gamma']);
      assert.deepEqual((await list('?q=REPORT')).names, ['Alpha report']);
      assert.deepEqual((await list('?queue=reports')).names, ['Alpha report']);
      assert.deepEqual((await list('?queue=REPORTS')).names, [], 'queue is exact');
      assert.deepEqual(
        (await list('?sort=last_run_at&order=desc')).names,
        ['Alpha report', 'gamma', 'beta'],
        'NULLs last, ties by id',
      );
      const page = await list('?sort=name&order=desc&limit=1&offset=1');
      assert.deepEqual([page.total, page.names], [3, ['beta']]);
    });

    type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
    async function call(method: Method, url: string, body?: unknown, headers: Record<string, string> = {}) {
      const response = await app.inject({
        method,
        url,
        headers: { ...bearer, ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { payload: JSON.stringify(body) }),
      });
      return { status: response.statusCode, json: response.body === '' ? undefined : response.json<any>() };
    }

    test('GET one, POST, PATCH with its version (428, 409 after an SQL edit, 422), run now, DELETE with If-Match', async () => {
      const created = await call('POST', '/api/tasks', {
        name: 'report',
        task: 'tasks.report',
        crontab: { minute: '*/15', hour: '9-17', dayOfWeek: 'mon-fri', timezone: 'Asia/Shanghai' },
        args: [1, 2],
        description: 'the daily report',
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      assert.equal(created.json.schedule.text, '*/15 9-17 * * mon-fri (Asia/Shanghai)');
      assert.equal(created.json.enabled, true);
      const id = created.json.id as number;
      const one = await call('GET', `/api/tasks/${id}`);
      assert.equal(one.status, 200);
      assert.equal(one.json.version, created.json.version);
      assert.equal((await call('GET', '/api/tasks/999999')).status, 404);
      assert.equal(
        (await call('POST', '/api/tasks', { name: 'report', task: 'x', interval: { every: 1, period: 'hours' } }))
          .status,
        422,
        'a taken name',
      );
      const badCreate = await call('POST', '/api/tasks', { name: 'bad', task: 'x', crontab: { minute: '61' } });
      assert.equal(badCreate.status, 422);
      assert.equal(badCreate.json.issues[0].field, 'crontab.minute');

      assert.equal((await call('PATCH', `/api/tasks/${id}`, { description: 'no version' })).status, 428);
      const edited = await call(
        'PATCH',
        `/api/tasks/${id}`,
        { description: 'edited by Ann', interval: { every: 30, period: 'minutes' } },
        { 'if-match': `"${one.json.version}"` },
      );
      assert.equal(edited.status, 200, JSON.stringify(edited.json));
      assert.equal(edited.json.description, 'edited by Ann');
      assert.equal(edited.json.schedule.text, 'every 30 minutes');
      assert.notEqual(edited.json.version, one.json.version);
      const stale = await call('PATCH', `/api/tasks/${id}`, { description: 'Bob', version: one.json.version });
      assert.equal(stale.status, 409);
      assert.equal(stale.json.currentVersion, edited.json.version);

      // An edit in SQL (as Django admin would make it) changes the version; the beat's bookkeeping does not.
      await dialect.query(
        db,
        "UPDATE django_celery_beat_periodictask SET description = 'edited in SQL' WHERE id = $1",
        [id],
      );
      const reread = (await call('GET', `/api/tasks/${id}`)).json;
      assert.equal(reread.description, 'edited in SQL');
      assert.equal(
        (await call('PATCH', `/api/tasks/${id}`, { description: 'lost?', version: edited.json.version })).status,
        409,
      );
      await dialect.query(
        db,
        'UPDATE django_celery_beat_periodictask SET last_run_at = $1, total_run_count = total_run_count + 1 WHERE id = $2',
        [dialect.time(db, new Date('2026-11-30T08:00:00.500Z')), id],
      );
      const afterRun = (await call('GET', `/api/tasks/${id}`)).json;
      assert.equal(afterRun.lastRunAt, '2026-11-30T08:00:00.500Z');
      assert.equal(afterRun.totalRunCount, 1);
      assert.equal(afterRun.version, reread.version, 'bookkeeping is not an edit');
      const bad = await call('PATCH', `/api/tasks/${id}`, { crontab: { hour: '25' }, version: reread.version });
      assert.equal(bad.status, 422);
      assert.equal((await call('GET', `/api/tasks/${id}`)).json.schedule.text, 'every 30 minutes', 'nothing written');
      assert.equal((await call('PATCH', '/api/tasks/999999', { description: 'x', version: 'v' })).status, 404);

      const ran = await call('POST', `/api/tasks/${id}/run`);
      assert.equal(ran.status, 200, JSON.stringify(ran.json));
      const client = new Redis(privateRedis().url(dialect.name === 'postgres' ? 1 : 2));
      try {
        const raw = await client.lrange('celery', 0, -1);
        assert.equal(raw.length, 1);
        const envelope = JSON.parse(raw[0]!);
        assert.equal(envelope.headers.id, ran.json.taskId);
        assert.equal(envelope.headers.task, 'tasks.report');
        assert.equal(envelope.headers.dbbeat_manual_run, 'token');
      } finally {
        client.disconnect();
      }
      assert.equal((await call('GET', `/api/tasks/${id}`)).json.totalRunCount, 1, 'run now is not a scheduled run');
      assert.equal((await call('POST', '/api/tasks/999999/run')).status, 404);

      assert.equal((await call('DELETE', `/api/tasks/${id}`, undefined, { 'if-match': 'stale' })).status, 409);
      assert.equal((await call('DELETE', `/api/tasks/${id}`, undefined, { 'if-match': afterRun.version })).status, 200);
      assert.equal((await call('DELETE', `/api/tasks/${id}`)).status, 404);
    });

    test('bulk disable, enable and delete', async () => {
      const ids = (await list('')).items.map((item) => item.id as number);
      const disabled = await call('POST', '/api/tasks/bulk', { action: 'disable', ids });
      assert.equal(disabled.status, 200);
      assert.deepEqual(disabled.json.changed.map((task: { name: string }) => task.name).sort(), [
        'Alpha report',
        'gamma',
      ]);
      assert.deepEqual((await list('?enabled=true')).names, []);
      const enabled = await call('POST', '/api/tasks/bulk', { action: 'enable', ids });
      assert.equal(enabled.json.changed.length, 3);
      assert.deepEqual((await list('?enabled=false')).names, []);
      const temporary = await call('POST', '/api/tasks', {
        name: 'temporary',
        task: 't',
        interval: { every: 5, period: 'seconds' },
      });
      const removed = await call('POST', '/api/tasks/bulk', { action: 'delete', ids: [temporary.json.id] });
      assert.deepEqual(removed.json.changed, [{ id: temporary.json.id, name: 'temporary' }]);
      assert.equal((await call('POST', '/api/tasks/bulk', { action: 'explode', ids })).status, 422);
    });

    test('schedules: each row with its tasks; a used one is refused (409), an unused one deleted', async () => {
      await call('POST', '/api/tasks', {
        name: 'sunrise',
        task: 't',
        solar: { event: 'sunrise', latitude: 52.52, longitude: 13.405 },
      });
      await call('POST', '/api/tasks', {
        name: 'later',
        task: 't',
        clocked: { clockedTime: '2030-05-01T10:00:00.250Z' },
      });
      const { status, json } = await call('GET', '/api/schedules');
      assert.equal(status, 200);
      const interval = json.interval.find((row: { every: number }) => row.every === 10);
      assert.deepEqual(
        interval.tasks.map((task: { name: string }) => task.name),
        ['beta'],
      );
      assert.deepEqual(
        json.solar.map((row: any) => [row.event, row.latitude, row.longitude, row.tasks.map((task: any) => task.name)]),
        [['sunrise', 52.52, 13.405, ['sunrise']]],
      );
      assert.deepEqual(
        json.clocked.map((row: any) => [row.clocked_time, row.tasks.map((task: any) => task.name)]),
        [['2030-05-01T10:00:00.250Z', ['later']]],
      );
      const crontab = json.crontab.find((row: { hour: string }) => row.hour === '3');
      assert.deepEqual(
        crontab.tasks.map((task: { name: string }) => task.name),
        ['Alpha report'],
      );
      const refused = await call('DELETE', `/api/schedules/crontab/${crontab.id}`);
      assert.equal(refused.status, 409);
      assert.match(refused.json.error, /"Alpha report"/);
      // The schedule left behind by the edit of 'report' (deleted since) is unused.
      const unused = json.crontab.find((row: { tasks: unknown[] }) => row.tasks.length === 0);
      assert.ok(unused, JSON.stringify(json.crontab));
      assert.equal((await call('DELETE', `/api/schedules/crontab/${unused.id}`)).status, 204);
      assert.equal((await call('DELETE', `/api/schedules/crontab/${unused.id}`)).status, 404);
      assert.equal((await call('DELETE', '/api/schedules/weekly/1')).status, 404);
    });

    test('beats and leases by the database clock: leader, standby, gone', async () => {
      const now = Date.now();
      const at = (offsetMs: number) => dialect.time(db, new Date(now + offsetMs));
      await dialect.query(db, 'INSERT INTO dbbeat_lease (name, holder, token, expires_at) VALUES ($1, $2, $3, $4)', [
        'default',
        'host-b:2:bb',
        '9007199254740993',
        at(60_000),
      ]);
      const beat =
        'INSERT INTO dbbeat_beat (instance, lease_name, hostname, pid, version, role, lease_seconds, started_at, seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)';
      await dialect.query(db, beat, [
        'host-a:1:aa',
        'default',
        'host-a',
        1,
        '0.1.0',
        'standby',
        5,
        at(-3_600_000),
        at(0),
      ]);
      await dialect.query(db, beat, [
        'host-b:2:bb',
        'default',
        'host-b',
        2,
        '0.1.0',
        'leader',
        5,
        at(-120_000),
        at(-1_000),
      ]);
      await dialect.query(db, beat, [
        'host-c:3:cc',
        'default',
        'host-c',
        3,
        '0.1.0',
        'leader',
        5,
        at(-86_400_000),
        at(-16_000),
      ]);
      const { status, json } = await call('GET', '/api/beats');
      assert.equal(status, 200);
      assert.deepEqual(
        json.beats.map((row: any) => [row.hostname, row.pid, row.role]),
        [
          ['host-b', 2, 'leader'],
          ['host-a', 1, 'standby'],
          ['host-c', 3, 'gone'],
        ],
      );
      assert.equal(json.beats[0].startedAt, new Date(now - 120_000).toISOString());
      assert.equal(json.groups[0].leader, 'host-b:2:bb');
      assert.equal(json.groups[0].fencingToken, '9007199254740993');
      assert.equal(json.groups[0].valid, true);
      assert.equal(json.groups[0].leaseExpires.utc, new Date(now + 60_000).toISOString());
      assert.ok(Math.abs(new Date(json.now).getTime() - now) < 60_000, 'now is the database clock');
      await dialect.query(db, 'UPDATE dbbeat_lease SET expires_at = $1', [at(-1_000)]);
      const lapsed = (await call('GET', '/api/beats')).json;
      assert.equal(lapsed.groups[0].leader, null);
      assert.equal(lapsed.groups[0].valid, false);
      assert.equal(lapsed.beats[0].role, 'standby');
    });

    test('next run as the beat counts it: a clocked task saved after its time, an interval task never run with start_time', async () => {
      const clocked = await dialect.insertTask(db, {
        name: 'next-run clocked overdue',
        schedule: { clocked: { clocked_time: new Date('2026-01-01T10:00:00Z') } },
        oneOff: true,
        dateChanged: new Date('2026-06-01T00:00:00Z'),
      });
      // Beat: never run with a start_time, an interval task runs at start_time itself.
      const interval = await dialect.insertTask(db, {
        name: 'next-run interval start',
        schedule: { interval: { every: 1, period: 'hours' } },
        dateChanged: new Date('2098-12-31T23:30:00Z'),
        startTime: new Date('2099-01-01T00:00:00Z'),
      });
      try {
        assert.equal((await call('GET', `/api/tasks/${clocked}`)).json.nextRun.utc, '2026-01-01T10:00:00.000Z');
        assert.equal((await call('GET', `/api/tasks/${interval}`)).json.nextRun.utc, '2099-01-01T00:00:00.000Z');
        const { json } = await call(
          'GET',
          '/api/preview?kind=clocked&clockedTime=2026-01-01T10:00:00Z&after=2026-06-01T00:00:00Z',
        );
        assert.deepEqual(
          json.runs.map((run: { utc: string; overdue: boolean }) => [run.utc, run.overdue]),
          [['2026-01-01T10:00:00.000Z', true]],
        );
      } finally {
        await dialect.query(db, 'DELETE FROM django_celery_beat_periodictask WHERE id IN ($1, $2)', [
          clocked,
          interval,
        ]);
      }
    });

    test('preview needs no database and answers the same', async () => {
      const { status, json } = await call(
        'GET',
        '/api/preview?kind=interval&every=90&period=seconds&after=2026-01-01T00:00:00Z&count=2',
      );
      assert.equal(status, 200);
      assert.deepEqual(
        json.runs.map((run: { utc: string }) => run.utc),
        ['2026-01-01T00:01:30.000Z', '2026-01-01T00:03:00.000Z'],
      );
    });
  });
}
