// Run history (dbbeat_run) on every dialect: rows written by insertRuns (one per task
// id, times in UTC), retention, outcomes (applyOutcomes: state precedence, folding,
// truncation) and open runs.
// DBBEAT_TEST_DIALECT=postgres or mysql runs one.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { migrate } from '../../src/db/migrate.js';
import type { MysqlDatabase } from '../../src/db/mysql/connection.js';
import { beatStoreFor, openDatabase, type OpenDatabase, runStoreFor } from '../../src/db/open.js';
import { OUTCOME_LIMITS } from '../../src/db/outcome-fold.js';
import type { OutcomeUpdate, RunStore } from '../../src/db/run-store.js';

/** How many rows applyOutcomes changed. */
const applied = async (store: RunStore, updates: readonly OutcomeUpdate[]) =>
  (await store.applyOutcomes(updates)).length;
import type { RunEntry } from '../../src/db/store.js';
import { createTempMysqlDatabase } from '../support/mysql.js';
import { insertMysqlTask } from '../support/mysql-rows.js';
import { createTempDatabase } from '../support/postgres.js';
import { insertTask, type TaskRowInput } from '../support/rows.js';

interface DialectUnderTest {
  name: 'postgres' | 'pglite' | 'mysql';
  create(): Promise<{ url?: string; dataDir?: string; drop(): Promise<void> }>;
  insert(db: OpenDatabase, input: TaskRowInput): Promise<number>;
}

const dialects: DialectUnderTest[] = [
  {
    name: 'postgres',
    create: () => createTempDatabase('dbbeat_runs'),
    insert: (db, input) =>
      insertTask(
        { query: async (sql: string, params?: unknown[]) => ({ rows: await db.query(sql, params) }) } as never,
        input,
      ),
  },
  {
    // The embedded database takes the postgres folder's statements (runs with DBBEAT_TEST_DIALECT=postgres).
    name: 'pglite',
    create: async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'dbbeat-runs-'));
      return { dataDir, drop: () => rm(dataDir, { recursive: true, force: true }) };
    },
    insert: (db, input) =>
      insertTask(
        { query: async (sql: string, params?: unknown[]) => ({ rows: await db.query(sql, params) }) } as never,
        input,
      ),
  },
  {
    name: 'mysql',
    create: () => createTempMysqlDatabase('dbbeat_runs'),
    insert: (db, input) => insertMysqlTask(db as unknown as MysqlDatabase, input),
  },
];
const only = process.env.DBBEAT_TEST_DIALECT;

/** A time column as epoch ms: a Date (pg) or UTC DATETIME text (mariadb). */
function ms(value: unknown): number | null {
  if (value === null) return null;
  if (value instanceof Date) return value.getTime();
  return Date.parse(`${(value as string).replace(' ', 'T')}Z`);
}

for (const dialect of dialects.filter(
  (d) => only === undefined || only === '' || d.name === only || (d.name === 'pglite' && only === 'postgres'),
)) {
  describe(`run history: ${dialect.name}`, () => {
    let temp: Awaited<ReturnType<DialectUnderTest['create']>>;
    let db: OpenDatabase;

    before(async () => {
      temp = await dialect.create();
      db = await openDatabase(temp.dataDir !== undefined ? { dataDir: temp.dataDir } : { databaseUrl: temp.url });
      await migrate(db);
    });
    after(async () => {
      await db.close();
      await temp.drop();
    });

    const entry = (id: number, taskId: string | null, over: Partial<RunEntry> = {}): RunEntry => ({
      periodicTaskId: id,
      periodicTaskName: 'history',
      task: 'proj.tasks.add',
      taskId,
      scheduledAt: Date.parse('2026-11-30T12:00:00.000Z'),
      sentAt: Date.parse('2026-11-30T12:00:01.250Z'),
      lateMs: 1250,
      broker: 'redis://127.0.0.1:6379/0',
      queue: 'celery',
      manual: false,
      state: 'SENT',
      ...over,
    });

    test('insertRuns writes one row per task id, times in UTC, lateness clamped', async () => {
      const store = beatStoreFor(db);
      const id = await dialect.insert(db, {
        name: 'history',
        schedule: { interval: { every: 10, period: 'seconds' } },
      });
      await store.insertRuns([entry(id, 'a'), entry(id, null, { state: 'SKIPPED', lateMs: 3e9, queue: null })]);
      await store.insertRuns([entry(id, 'a', { lateMs: 7 })]); // a re-sent id: left alone
      const rows = await db.query<Record<string, unknown>>(
        'SELECT task_id, state, late_ms, queue, manual, scheduled_at, sent_at, broker, task, periodic_task_id FROM dbbeat_run ORDER BY id',
      );
      assert.deepEqual(
        rows.map((r) => [
          r.task_id,
          r.state,
          Number(r.late_ms),
          r.queue,
          Boolean(r.manual),
          ms(r.scheduled_at),
          ms(r.sent_at),
          r.broker,
          r.task,
          Number(r.periodic_task_id),
        ]),
        [
          [
            'a',
            'SENT',
            1250,
            'celery',
            false,
            Date.parse('2026-11-30T12:00:00Z'),
            Date.parse('2026-11-30T12:00:01.250Z'),
            'redis://127.0.0.1:6379/0',
            'proj.tasks.add',
            id,
          ],
          [
            null,
            'SKIPPED',
            2 ** 31 - 1,
            null,
            false,
            Date.parse('2026-11-30T12:00:00Z'),
            Date.parse('2026-11-30T12:00:01.250Z'),
            'redis://127.0.0.1:6379/0',
            'proj.tasks.add',
            id,
          ],
        ],
      );
    });

    test('pruning by age and by the row cap, a chunk at a time', async () => {
      const store = beatStoreFor(db);
      const runs = runStoreFor(db);
      const id = await dialect.insert(db, { name: 'pruned', schedule: { interval: { every: 10, period: 'seconds' } } });
      const now = Date.now();
      const old = Array.from({ length: 3 }, (_, i) => entry(id, `old-${i}`, { sentAt: now - 20 * 86_400_000 }));
      const fresh = Array.from({ length: 5 }, (_, i) => entry(id, `fresh-${i}`, { sentAt: now - 1000 }));
      await store.insertRuns([...old, ...fresh]);
      await db.query('DELETE FROM dbbeat_run WHERE task_id IS NULL OR task_id = ' + "'a'");
      assert.equal(await runs.pruneRuns(14, 100, 2), 2, 'a chunk of 2');
      assert.equal(await runs.pruneRuns(14, 100, 2), 1);
      assert.equal(await runs.pruneRuns(14, 100, 2), 0);
      assert.equal(await runs.pruneRuns(14, 3, 100), 2, 'the cap keeps the newest 3');
      const left = await db.query<{ task_id: string }>('SELECT task_id FROM dbbeat_run ORDER BY id');
      assert.deepEqual(
        left.map((r) => r.task_id),
        ['fresh-2', 'fresh-3', 'fresh-4'],
      );
    });

    /** Sends runs with these task ids (state SENT) for a task of its own; returns nothing. */
    async function sent(name: string, taskIds: string[], sentAt = Date.parse('2026-11-30T12:00:01.250Z')) {
      const id = await dialect.insert(db, { name, schedule: { interval: { every: 10, period: 'seconds' } } });
      await beatStoreFor(db).insertRuns(taskIds.map((t) => entry(id, t, { periodicTaskName: name, sentAt })));
    }

    /** The outcome columns of one run, times as epoch ms. */
    async function run(taskId: string) {
      const sql =
        db.kind === 'mysql'
          ? 'SELECT * FROM dbbeat_run WHERE task_id = ?'
          : 'SELECT * FROM dbbeat_run WHERE task_id = $1';
      const [r] = await db.query<Record<string, unknown>>(sql, [taskId]);
      assert.ok(r, `run ${taskId}`);
      return {
        state: r.state,
        receivedAt: ms(r.received_at),
        startedAt: ms(r.started_at),
        finishedAt: ms(r.finished_at),
        runtime: r.runtime === null ? null : Number(r.runtime),
        worker: r.worker,
        result: r.result,
        exceptionType: r.exception_type,
        exceptionMessage: r.exception_message,
        traceback: r.traceback,
      };
    }

    const T = Date.parse('2026-11-30T12:00:02.000Z');
    const up = (taskId: string, state: OutcomeUpdate['state'], dt: number, over: Partial<OutcomeUpdate> = {}) => ({
      taskId,
      state,
      at: T + dt,
      ...over,
    });

    test('applyOutcomes: received, started, succeeded in three batches', async () => {
      const runs = runStoreFor(db);
      await sent('outcome-seq', ['s1']);
      assert.equal(await applied(runs, [up('s1', 'RECEIVED', 0, { worker: 'celery@w1' })]), 1);
      assert.equal((await run('s1')).state, 'RECEIVED');
      assert.equal(await applied(runs, [up('s1', 'STARTED', 10)]), 1);
      assert.equal(
        await applied(runs, [up('s1', 'SUCCESS', 510, { runtime: 0.5, result: '42', worker: 'celery@w1' })]),
        1,
      );
      assert.deepEqual(await run('s1'), {
        state: 'SUCCESS',
        receivedAt: T,
        startedAt: T + 10,
        finishedAt: T + 510,
        runtime: 0.5,
        worker: 'celery@w1',
        result: '42',
        exceptionType: null,
        exceptionMessage: null,
        traceback: null,
      });
    });

    test('applyOutcomes: one batch with several updates per task id is folded in order', async () => {
      const runs = runStoreFor(db);
      await sent('outcome-fold', ['f1', 'f2']);
      const changed = await applied(runs, [
        up('f1', 'RECEIVED', 0, { worker: 'celery@a' }),
        up('f2', 'RECEIVED', 1, { worker: 'celery@b' }),
        up('f1', 'STARTED', 2),
        up('f1', 'FAILURE', 3, { exceptionType: 'ValueError', exceptionMessage: 'boom', traceback: 'Traceback…' }),
        up('f2', 'STARTED', 4),
        up('f1', 'RECEIVED', 5), // late duplicate: does not move FAILURE back
      ]);
      assert.equal(changed, 2);
      // What changed, as the metrics read it: the state before and after, the runtime.
      await sent('outcome-report', ['p1', 'p2', 'p3']);
      await applied(runs, [up('p3', 'STARTED', 0)]);
      const report = await runs.applyOutcomes([
        up('p1', 'SUCCESS', 0, { runtime: 0.25, result: '1' }),
        up('p2', 'RECEIVED', 0),
        up('p3', 'STARTED', 0, { worker: 'celery@late' }), // fills the worker only
        up('not-ours', 'SUCCESS', 0, { runtime: 1 }),
      ]);
      assert.deepEqual(
        [...report].sort((a, b) => a.taskId.localeCompare(b.taskId)),
        [
          { taskId: 'p1', state: 'SUCCESS', previous: 'SENT', runtime: 0.25 },
          { taskId: 'p2', state: 'RECEIVED', previous: 'SENT', runtime: null },
          { taskId: 'p3', state: 'STARTED', previous: 'STARTED', runtime: null },
        ],
      );
      assert.deepEqual(await runs.applyOutcomes([up('p1', 'FAILURE', 1)]), [], 'a finished run: nothing');
      const f1 = await run('f1');
      assert.deepEqual(
        [f1.state, f1.receivedAt, f1.startedAt, f1.finishedAt, f1.exceptionType, f1.exceptionMessage, f1.traceback],
        ['FAILURE', T, T + 2, T + 3, 'ValueError', 'boom', 'Traceback…'],
      );
      const f2 = await run('f2');
      assert.deepEqual([f2.state, f2.worker, f2.startedAt], ['STARTED', 'celery@b', T + 4]);
    });

    test('applyOutcomes: a finished run never moves back; a late event only fills empty times', async () => {
      const runs = runStoreFor(db);
      await sent('outcome-late', ['l1', 'l2']);
      assert.equal(await applied(runs, [up('l1', 'SUCCESS', 100, { runtime: 0.1, result: "'ok'" })]), 1);
      // Out of order: started after succeeded. SUCCESS stays; started_at and the worker fill in.
      assert.equal(await applied(runs, [up('l1', 'STARTED', 0, { worker: 'celery@late' })]), 1);
      const l1 = await run('l1');
      assert.deepEqual([l1.state, l1.startedAt, l1.worker, l1.result], ['SUCCESS', T, 'celery@late', "'ok'"]);
      // Nothing left to fill: no row changes.
      assert.equal(await applied(runs, [up('l1', 'STARTED', 0, { worker: 'celery@other' })]), 0);
      assert.equal(await applied(runs, [up('l1', 'FAILURE', 200, { exceptionType: 'E' })]), 0);
      assert.equal(await applied(runs, [up('l1', 'LOST', 300)]), 0);
      assert.equal((await run('l1')).worker, 'celery@late');
      // STARTED does not go back to RECEIVED (without a retry between).
      await applied(runs, [up('l2', 'STARTED', 10)]);
      await applied(runs, [up('l2', 'RECEIVED', 0)]);
      const l2 = await run('l2');
      assert.deepEqual([l2.state, l2.receivedAt, l2.startedAt], ['STARTED', T, T + 10]);
      for (const state of ['REVOKED', 'REJECTED'] as const) {
        await sent(`outcome-${state}`, [state]);
        await applied(runs, [up(state, state, 0)]);
        assert.equal(await applied(runs, [up(state, 'SUCCESS', 5)]), 0);
        assert.equal((await run(state)).state, state);
      }
    });

    test('applyOutcomes: a retry keeps the task id; the next delivery moves on, success clears the exception', async () => {
      const runs = runStoreFor(db);
      await sent('outcome-retry', ['r1', 'r2']);
      await applied(runs, [up('r1', 'RECEIVED', 0), up('r1', 'STARTED', 1)]);
      await applied(runs, [
        up('r1', 'RETRY', 2, { exceptionType: 'Retry', exceptionMessage: 'Retry in 1s', traceback: 'tb' }),
      ]);
      assert.equal((await run('r1')).state, 'RETRY');
      // Across batches: RETRY -> RECEIVED -> STARTED keeps the retry's reason while running.
      await applied(runs, [up('r1', 'RECEIVED', 1000, { worker: 'celery@two' })]);
      await applied(runs, [up('r1', 'STARTED', 1001)]);
      let r1 = await run('r1');
      assert.deepEqual(
        [r1.state, r1.receivedAt, r1.startedAt, r1.worker, r1.exceptionType],
        ['STARTED', T + 1000, T + 1001, 'celery@two', 'Retry'],
      );
      await applied(runs, [up('r1', 'SUCCESS', 1100, { runtime: 0.099, result: '7' })]);
      r1 = await run('r1');
      assert.deepEqual(
        [r1.state, r1.result, r1.runtime, r1.exceptionType, r1.exceptionMessage, r1.traceback, r1.finishedAt],
        ['SUCCESS', '7', 0.099, null, null, null, T + 1100],
      );
      // Stored STARTED; a batch of retried then received: the run is RECEIVED again.
      await applied(runs, [up('r2', 'STARTED', 0)]);
      await applied(runs, [up('r2', 'RETRY', 1), up('r2', 'RECEIVED', 2)]);
      const r2 = await run('r2');
      assert.deepEqual([r2.state, r2.receivedAt], ['RECEIVED', T + 2]);
    });

    test('applyOutcomes: LOST only from an open state, and a real outcome overwrites it', async () => {
      const runs = runStoreFor(db);
      await sent('outcome-lost', ['x1', 'x2']);
      assert.equal(await applied(runs, [up('x1', 'LOST', 0), up('x2', 'STARTED', 0)]), 2);
      assert.equal(await applied(runs, [up('x2', 'LOST', 1)]), 1);
      assert.equal(await applied(runs, [up('x2', 'LOST', 2)]), 0, 'LOST again changes nothing');
      assert.equal((await run('x1')).state, 'LOST');
      assert.equal(await applied(runs, [up('x1', 'SUCCESS', 5000, { runtime: 4.9, result: 'None' })]), 1);
      assert.deepEqual(
        [(await run('x1')).state, (await run('x1')).result, (await run('x2')).state],
        ['SUCCESS', 'None', 'LOST'],
      );
      await applied(runs, [up('x2', 'RECEIVED', 6000)]);
      assert.equal((await run('x2')).state, 'RECEIVED');
    });

    test('applyOutcomes: unknown task ids change nothing; long text is cut to the limits', async () => {
      const runs = runStoreFor(db);
      assert.equal(await applied(runs, []), 0);
      assert.equal(await applied(runs, [up('not-ours', 'SUCCESS', 0), up('nor-this', 'STARTED', 0)]), 0);
      await sent('outcome-long', ['big']);
      const changed = await applied(runs, [
        up('big', 'FAILURE', 0, {
          result: 'r'.repeat(10_000),
          exceptionType: 'T'.repeat(1000),
          exceptionMessage: 'é'.repeat(10_000),
          traceback: 'x'.repeat(100_000),
          worker: 'w'.repeat(1000),
        }),
      ]);
      assert.equal(changed, 1);
      const big = await run('big');
      assert.deepEqual(
        [
          (big.result as string).length,
          (big.exceptionType as string).length,
          (big.exceptionMessage as string).length,
          (big.traceback as string).length,
          (big.worker as string).length,
        ],
        [
          OUTCOME_LIMITS.result,
          OUTCOME_LIMITS.exceptionType,
          OUTCOME_LIMITS.exceptionMessage,
          OUTCOME_LIMITS.traceback,
          OUTCOME_LIMITS.worker,
        ],
      );
      assert.ok((big.traceback as string).endsWith('…'));
      assert.ok((big.exceptionMessage as string).startsWith('éé'));
    });

    test('openRuns: open states sent before the time, oldest first, up to the limit', async () => {
      const runs = runStoreFor(db);
      await db.query('DELETE FROM dbbeat_run');
      const base = Date.parse('2026-11-30T10:00:00.000Z');
      await sent('open-a', ['o1', 'o2', 'o3', 'o4', 'o5'], base);
      await sent('open-b', ['o6'], base + 3_600_000);
      await applied(runs, [
        up('o2', 'RECEIVED', 0),
        up('o3', 'STARTED', 0),
        up('o4', 'RETRY', 0),
        up('o5', 'SUCCESS', 0),
      ]);
      const open = await runs.openRuns(base + 1, 10);
      assert.deepEqual(
        open.map(({ id: _id, ...rest }) => rest),
        [
          { taskId: 'o1', sentAt: base, state: 'SENT' },
          { taskId: 'o2', sentAt: base, state: 'RECEIVED' },
          { taskId: 'o3', sentAt: base, state: 'STARTED' },
          { taskId: 'o4', sentAt: base, state: 'RETRY' },
        ],
      );
      // Keyset paging by id: after the last id of a page, then nothing past the end.
      assert.ok(open.every((r, i) => i === 0 || r.id > open[i - 1]!.id));
      const later = Date.parse('2026-11-30T11:00:00.001Z');
      const first = await runs.openRuns(later, 2);
      assert.deepEqual(
        first.map((r) => r.taskId),
        ['o1', 'o2'],
      );
      const second = await runs.openRuns(later, 2, first[1]!.id);
      assert.deepEqual(
        second.map((r) => r.taskId),
        ['o3', 'o4'],
      );
      const third = await runs.openRuns(later, 2, second[1]!.id);
      assert.deepEqual(
        third.map((r) => r.taskId),
        ['o6'],
      );
      assert.deepEqual(await runs.openRuns(later, 2, third[0]!.id), []);
      assert.deepEqual(
        (await runs.openRuns(base + 3_600_001, 2)).map((r) => r.taskId),
        ['o1', 'o2'],
      );
      assert.equal((await runs.openRuns(base, 10)).length, 0, 'strictly before');
      assert.equal((await runs.openRuns(base + 3_600_001, 10)).length, 5);
    });
  });
}
