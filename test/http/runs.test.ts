// Run history over HTTP: /api/runs (filters, keyset pages, a bad filter named in a 422),
// /api/tasks/{id}/runs with the failing flag, /api/failing and the failing field of the task
// list; run now writes a manual run into history. Outcomes are written with SQL here.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { runStoreFor } from '../../src/db/open.js';
import type { RunJson } from '../../src/outcomes/run-view.js';
import { insertTask } from '../support/rows.js';
import { type TestConsole, bearer, startTestConsole } from './support.js';

let console_: TestConsole;
const ids: Record<string, number> = {};
const NOW = Date.parse('2026-11-30T12:00:00Z');

const get = async <T>(url: string) => {
  const response = await console_.app.inject({ method: 'GET', url, headers: bearer });
  return { status: response.statusCode, body: response.json<T>() };
};

before(async () => {
  console_ = await startTestConsole({ now: () => new Date(NOW) });
  const sql = { query: async (text: string, params?: unknown[]) => ({ rows: await console_.db.query(text, params) }) };
  for (const name of ['healthy', 'broken'])
    ids[name] = await insertTask(sql as never, { name, schedule: { interval: { every: 1, period: 'minutes' } } });
  const runs = [];
  for (const name of ['healthy', 'broken'])
    for (let i = 0; i < 4; i += 1) {
      const slot = NOW - (10 - i) * 60_000;
      runs.push({
        periodicTaskId: ids[name]!,
        periodicTaskName: name,
        task: `proj.${name}`,
        taskId: `${name}-${i}`,
        scheduledAt: slot,
        sentAt: slot + 30,
        lateMs: 30,
        broker: 'redis://127.0.0.1:6379/0',
        queue: 'celery',
        manual: false,
        state: 'SENT' as const,
      });
    }
  await runStoreFor(console_.db).insertRuns(runs);
  await console_.db.query(
    "UPDATE dbbeat_run SET state = 'SUCCESS', runtime = 0.5, worker = 'celery@a' WHERE periodic_task_name = 'healthy'",
  );
  await console_.db.query(
    `UPDATE dbbeat_run SET state = 'FAILURE', runtime = 0.1, worker = 'celery@a', exception_type = 'KeyError',
       exception_message = '''missing''', traceback = 'Traceback (most recent call last):' || chr(10) || 'KeyError: ''missing'''
     WHERE periodic_task_name = 'broken' AND task_id <> 'broken-0'`,
  );
});
after(async () => {
  await console_?.close();
});

test('GET /api/runs: newest first, filtered, paged with before; a bad filter is a 422 naming it', async () => {
  const first = await get<{ items: RunJson[]; nextBefore: number | null }>('/api/runs?limit=3');
  assert.equal(first.status, 200);
  assert.deepEqual(
    first.body.items.map((run) => run.taskId),
    ['broken-3', 'broken-2', 'broken-1'],
  );
  assert.equal(first.body.nextBefore, first.body.items[2]!.id);
  const rest = await get<{ items: RunJson[]; nextBefore: number | null }>(
    `/api/runs?limit=100&before=${first.body.nextBefore}`,
  );
  assert.equal(rest.body.items.length, 5);
  assert.equal(rest.body.nextBefore, null);
  const failed = await get<{ items: RunJson[] }>('/api/runs?task=broken&state=failure&since=8m');
  assert.deepEqual(
    failed.body.items.map((run) => [run.taskId, run.state, run.exceptionType, run.runtime]),
    [
      ['broken-3', 'FAILURE', 'KeyError', 0.1],
      ['broken-2', 'FAILURE', 'KeyError', 0.1],
    ],
  );
  assert.equal(failed.body.items[0]!.sentAt, new Date(NOW - 7 * 60_000 + 30).toISOString());
  assert.equal(failed.body.items[0]!.traceback, "Traceback (most recent call last):\nKeyError: 'missing'");
  const bad = await get<{ error: string; issues: { field: string; value: string }[] }>('/api/runs?since=last+week');
  assert.equal(bad.status, 422);
  assert.deepEqual(
    bad.body.issues.map((issue) => [issue.field, issue.value]),
    [['since', 'last week']],
  );
  assert.match(bad.body.error, /^since: "last week" is not an ISO time/);
});

test('failing: a task whose last 3 runs failed, on its runs, in the task list and in /api/failing', async () => {
  const broken = await get<{
    items: RunJson[];
    failing: { reason: string; failures: number } | null;
    failingAfter: number;
  }>(`/api/tasks/${ids.broken}/runs?limit=2`);
  assert.equal(broken.status, 200);
  assert.deepEqual(
    broken.body.items.map((run) => run.taskId),
    ['broken-3', 'broken-2'],
  );
  assert.equal(broken.body.failingAfter, 3);
  assert.equal(broken.body.failing?.reason, 'failures');
  assert.equal(broken.body.failing?.failures, 3);
  const healthy = await get<{ failing: unknown }>(`/api/tasks/${ids.healthy}/runs`);
  assert.equal(healthy.body.failing, null);
  const list = await get<{ items: { name: string; failing: { reason: string } | null }[] }>('/api/tasks');
  assert.deepEqual(
    list.body.items.map((task) => [task.name, task.failing?.reason ?? null]),
    [
      ['broken', 'failures'],
      ['healthy', null],
    ],
  );
  const one = await get<{ failing: { lastRun: { taskId: string; exceptionType: string } } }>(
    `/api/tasks/${ids.broken}`,
  );
  assert.equal(one.body.failing.lastRun.taskId, 'broken-3');
  assert.equal(one.body.failing.lastRun.exceptionType, 'KeyError');
  const all = await get<{ failingAfter: number; items: { periodicTaskName: string }[] }>('/api/failing');
  assert.deepEqual(
    all.body.items.map((task) => task.periodicTaskName),
    ['broken'],
  );
  const spec = await get<{ paths: Record<string, unknown> }>('/api/openapi.json');
  for (const path of ['/api/runs', '/api/tasks/{id}/runs', '/api/failing']) assert.ok(spec.body.paths[path], path);
});

test('run now writes a manual run (no slot, no lateness) into history', async () => {
  console_.context.manualRunHistory = {
    broker: 'redis://:***@127.0.0.1:6379/0',
    routing: {
      defaultQueue: 'celery',
      defaultExchange: null,
      defaultExchangeType: 'direct',
      defaultRoutingKey: null,
      routes: [],
    },
  };
  const session = await console_.app.inject({ method: 'POST', url: `/api/tasks/${ids.healthy}/run`, headers: bearer });
  assert.equal(session.statusCode, 200, session.body);
  const { taskId } = session.json<{ taskId: string }>();
  const runs = await get<{ items: RunJson[] }>(`/api/tasks/${ids.healthy}/runs?limit=1`);
  assert.deepEqual(
    runs.body.items.map((run) => [
      run.taskId,
      run.manual,
      run.scheduledAt,
      run.lateMs,
      run.state,
      run.queue,
      run.broker,
    ]),
    [[taskId, true, null, null, 'SENT', 'celery', 'redis://:***@127.0.0.1:6379/0']],
  );
});
