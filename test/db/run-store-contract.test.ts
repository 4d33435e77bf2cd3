// Run history (dbbeat_run) on every dialect: rows written by insertRuns (one per task
// id, times in UTC) and retention.
// DBBEAT_TEST_DIALECT=postgres or mysql runs one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { migrate } from '../../src/db/migrate.js';
import type { MysqlDatabase } from '../../src/db/mysql/connection.js';
import { beatStoreFor, openDatabase, type OpenDatabase, runStoreFor } from '../../src/db/open.js';
import type { RunEntry } from '../../src/db/store.js';
import { createTempMysqlDatabase } from '../support/mysql.js';
import { insertMysqlTask } from '../support/mysql-rows.js';
import { createTempDatabase } from '../support/postgres.js';
import { insertTask, type TaskRowInput } from '../support/rows.js';

interface DialectUnderTest {
  name: 'postgres' | 'mysql';
  create(): Promise<{ url: string; drop(): Promise<void> }>;
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

for (const dialect of dialects.filter((d) => only === undefined || only === '' || d.name === only)) {
  describe(`run history: ${dialect.name}`, () => {
    let temp: { url: string; drop(): Promise<void> };
    let db: OpenDatabase;

    before(async () => {
      temp = await dialect.create();
      db = await openDatabase({ databaseUrl: temp.url });
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
  });
}
