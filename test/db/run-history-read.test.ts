// Reading run history on every dialect: listRuns (filters, order, keyset pages) and
// failingTasks (the last K decided runs all FAILURE, or the last one LOST). Outcomes are
// written with plain SQL here, as the event consumer and the result-backend reader would.
// DBBEAT_TEST_DIALECT=postgres or mysql runs one.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { type OpenDatabase, runStoreFor } from '../../src/db/open.js';
import type { RunEntry } from '../../src/db/store.js';
import { testDialects, withDialectDatabase } from '../support/dialects.js';

const T0 = Date.parse('2026-11-30T12:00:00.000Z');
const MINUTE = 60_000;

for (const dialect of testDialects) {
  describe(`reading run history: ${dialect.name}`, () => {
    const database = withDialectDatabase(dialect, 'dbbeat_runread');
    let db: OpenDatabase;
    const ids: Record<string, number> = {};

    const entry = (name: string, taskId: string, minute: number, over: Partial<RunEntry> = {}): RunEntry => ({
      periodicTaskId: ids[name]!,
      periodicTaskName: name,
      task: 'proj.tasks.work',
      taskId,
      scheduledAt: T0 + minute * MINUTE,
      sentAt: T0 + minute * MINUTE + 40,
      lateMs: 40,
      broker: 'redis://127.0.0.1:6379/0',
      queue: 'celery',
      manual: false,
      state: 'SENT',
      ...over,
    });
    const outcome = (taskId: string, state: string, exceptionType: string | null = null) =>
      dialect.query(
        db,
        'UPDATE dbbeat_run SET state = $1, exception_type = $2, exception_message = $3, traceback = $4, runtime = $5 WHERE task_id = $6',
        [
          state,
          exceptionType,
          exceptionType && `${exceptionType} in ${taskId}`,
          exceptionType && `Traceback (most recent call last):\n  ${taskId}\n${exceptionType}`,
          state === 'SUCCESS' || state === 'FAILURE' ? 0.25 : null,
          taskId,
        ],
      );
    // Runs of `name` in minutes 0, 1, 2 …, with these outcomes ('SENT': none yet).
    const runs = async (name: string, states: string[], over: Partial<RunEntry> = {}) => {
      await runStoreFor(db).insertRuns(states.map((_, i) => entry(name, `${name}-${i}`, i, over)));
      for (const [i, state] of states.entries())
        if (state !== 'SENT') await outcome(`${name}-${i}`, state, state === 'FAILURE' ? 'ValueError' : null);
    };

    before(async () => {
      db = database.db;
      for (const name of ['ok', 'streak', 'recovered', 'lost', 'inflight', 'short', 'off', 'revoked'])
        ids[name] = await dialect.insertTask(db, {
          name,
          schedule: { interval: { every: 1, period: 'minutes' } },
          enabled: name !== 'off',
        });
      await runs('ok', ['SUCCESS', 'FAILURE', 'SUCCESS']);
      await runs('streak', ['SUCCESS', 'FAILURE', 'FAILURE', 'FAILURE']);
      await runs('recovered', ['FAILURE', 'FAILURE', 'FAILURE', 'SUCCESS']);
      await runs('lost', ['SUCCESS', 'LOST']);
      await runs('inflight', ['FAILURE', 'FAILURE', 'FAILURE', 'STARTED', 'SENT']);
      await runs('short', ['FAILURE', 'FAILURE']);
      await runs('off', ['FAILURE', 'FAILURE', 'FAILURE']);
      await runs('revoked', ['FAILURE', 'FAILURE', 'REVOKED']);
      // A skipped run and a manual run of "ok": the manual one, sent last, failed.
      await runStoreFor(db).insertRuns([
        {
          ...entry('ok', 'unused', 9),
          taskId: null,
          state: 'SKIPPED',
        },
        { ...entry('ok', 'ok-manual', 10), scheduledAt: null, lateMs: null, manual: true },
      ]);
      await outcome('ok-manual', 'FAILURE', 'KeyError');
    });

    test('listRuns: newest first, every column, filters by name, state and time', async () => {
      const store = runStoreFor(db);
      const all = await store.listRuns({ limit: 1000 });
      assert.equal(all.length, 28);
      assert.deepEqual(
        all.map((run) => run.id),
        all.map((run) => run.id).sort((a, b) => b - a),
      );
      const manual = all.find((run) => run.taskId === 'ok-manual')!;
      assert.deepEqual(
        { ...manual, id: 0 },
        {
          id: 0,
          periodicTaskId: ids.ok,
          periodicTaskName: 'ok',
          task: 'proj.tasks.work',
          taskId: 'ok-manual',
          scheduledAt: null,
          sentAt: T0 + 10 * MINUTE + 40,
          lateMs: null,
          broker: 'redis://127.0.0.1:6379/0',
          queue: 'celery',
          manual: true,
          state: 'FAILURE',
          receivedAt: null,
          startedAt: null,
          finishedAt: null,
          runtime: 0.25,
          worker: null,
          result: null,
          exceptionType: 'KeyError',
          exceptionMessage: 'KeyError in ok-manual',
          traceback: 'Traceback (most recent call last):\n  ok-manual\nKeyError',
        },
      );
      const byName = await store.listRuns({ name: 'streak', limit: 10 });
      assert.deepEqual(
        byName.map((run) => run.taskId),
        ['streak-3', 'streak-2', 'streak-1', 'streak-0'],
      );
      const failed = await store.listRuns({ state: 'FAILURE', name: 'ok', limit: 10 });
      assert.deepEqual(
        failed.map((run) => run.taskId),
        ['ok-manual', 'ok-1'],
      );
      const recent = await store.listRuns({ since: T0 + 3 * MINUTE, limit: 100 });
      assert.deepEqual(recent.map((run) => String(run.taskId)).sort(), [
        'inflight-3',
        'inflight-4',
        'null', // the skipped run
        'ok-manual',
        'recovered-3',
        'streak-3',
      ]);
      const skipped = await store.listRuns({ state: 'SKIPPED', limit: 10 });
      assert.deepEqual(
        skipped.map((run) => [run.taskId, run.periodicTaskName]),
        [[null, 'ok']],
      );
    });

    test('listRuns pages with a keyset: by id across tasks, by send time within one', async () => {
      const store = runStoreFor(db);
      const first = await store.listRuns({ limit: 10 });
      const second = await store.listRuns({ limit: 10, before: first.at(-1)!.id });
      const all = await store.listRuns({ limit: 20 });
      assert.deepEqual(
        [...first, ...second].map((run) => run.id),
        all.map((run) => run.id),
      );
      // One task: newest send time first, whatever the insert order.
      const one = await store.listRuns({ periodicTaskId: ids.ok!, limit: 3 });
      assert.deepEqual(
        one.map((run) => run.taskId),
        ['ok-manual', null, 'ok-2'],
      );
      const next = await store.listRuns({ periodicTaskId: ids.ok!, limit: 3, before: one.at(-1)!.id });
      assert.deepEqual(
        next.map((run) => run.taskId),
        ['ok-1', 'ok-0'],
      );
      const failedOnly = await store.listRuns({ periodicTaskId: ids.ok!, state: 'FAILURE', limit: 5 });
      assert.deepEqual(
        failedOnly.map((run) => run.taskId),
        ['ok-manual', 'ok-1'],
      );
      assert.deepEqual(await store.listRuns({ periodicTaskId: 999_999, limit: 5 }), []);
    });

    test('failingTasks: the last K decided runs all failed, or the last one was lost', async () => {
      const store = runStoreFor(db);
      const failing = await store.failingTasks({ lastK: 3 });
      assert.deepEqual(
        failing.map((task) => [task.periodicTaskName, task.reason, task.failures, task.lastRun.state]),
        [
          ['inflight', 'failures', 3, 'FAILURE'],
          ['lost', 'lost', 0, 'LOST'],
          ['streak', 'failures', 3, 'FAILURE'],
        ],
      );
      const streak = failing.find((task) => task.periodicTaskName === 'streak')!;
      assert.equal(streak.periodicTaskId, ids.streak);
      assert.equal(streak.lastRun.taskId, 'streak-3');
      assert.equal(streak.lastRun.sentAt, T0 + 3 * MINUTE + 40);
      assert.equal(streak.lastRun.exceptionType, 'ValueError');
      assert.equal(streak.lastRun.exceptionMessage, 'ValueError in streak-3');
      // K = 2: "short" (two failures) and "revoked"? no: its last run was revoked. "ok": the
      // manual run failed but the one before succeeded.
      assert.deepEqual(
        (await store.failingTasks({ lastK: 2 })).map((task) => task.periodicTaskName),
        ['inflight', 'lost', 'short', 'streak'],
      );
      assert.deepEqual(
        (await store.failingTasks({ lastK: 1 })).map((task) => task.periodicTaskName),
        ['inflight', 'lost', 'ok', 'short', 'streak'],
      );
      // A page of the task list: only the ids asked about.
      assert.deepEqual(
        (await store.failingTasks({ lastK: 3, periodicTaskIds: [ids.streak!, ids.ok!, ids.off!] })).map(
          (task) => task.periodicTaskName,
        ),
        ['streak'],
      );
      assert.deepEqual(await store.failingTasks({ lastK: 3, periodicTaskIds: [] }), []);
    });
  });
}
