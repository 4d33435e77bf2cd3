// The fenced write checks the lease as it is when the write is made (issue 14.2): a
// recording that had to wait while another beat took the lease over writes nothing once
// the new token is committed, and a row another transaction holds is skipped, not waited for.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { PostgresStore } from '../../src/db/postgres/store.js';
import {
  createFaultDatabase,
  delay,
  type FaultDatabase,
  insertTasks,
  randomIdBase,
  uniqueName,
  waitUntil,
} from './support.js';

describe('the fenced recording statement', () => {
  let db: FaultDatabase;
  let store: PostgresStore;
  let taskIds: number[];

  before(async () => {
    db = await createFaultDatabase();
    store = new PostgresStore({
      query: async <Row extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) =>
        (await db.pool.query<Row>(sql, params === undefined ? undefined : [...params])).rows,
      listen: () => Promise.resolve(() => Promise.resolve()), // only query() is used here
    });
    const specs = await insertTasks(db.pool, {
      idBase: randomIdBase(),
      count: 2,
      namePrefix: uniqueName('fenced'),
      queue: null,
      dateChanged: Date.now(),
      schedule: () => 1,
    });
    taskIds = specs.map((spec) => spec.id);
  });

  after(async () => {
    await db?.drop();
  });

  const record = (lastRunAt: number) => taskIds.map((id) => ({ id, lastRunAt, runs: 1, disable: false }));
  const runCounts = async () =>
    (
      await db.pool.query<{ total_run_count: number }>(
        'SELECT total_run_count FROM django_celery_beat_periodictask WHERE id = ANY($1) ORDER BY id',
        [taskIds],
      )
    ).rows.map((row) => row.total_run_count);

  test(
    'a write queued behind a takeover is checked against the new token, and writes nothing',
    { timeout: 30_000 },
    async () => {
      const first = await store.acquireLease('fenced', 'old leader', 30);
      assert.ok(first);
      const before = await runCounts();

      // Another beat's takeover is under way: the lease row carries the next token, not yet committed.
      const takeover = await db.pool.connect();
      try {
        await takeover.query('BEGIN');
        await takeover.query(
          `UPDATE dbbeat_lease SET holder = 'new leader', token = token + 1, expires_at = now() + interval '30 s' WHERE name = 'fenced'`,
        );
        const takeoverPid = (await takeover.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        const write = store.recordRuns(record(Date.now()), { name: 'fenced', token: first.token });
        const settled = { done: false };
        void write.then(
          () => (settled.done = true),
          () => (settled.done = true),
        );
        // The old leader's write waits for the lease row…
        await waitUntil(
          'the old leader’s write to wait on the lease row',
          async () => {
            const { rows } = await db.pool.query(
              'SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
              [takeoverPid],
            );
            return rows.length > 0 || settled.done ? true : undefined;
          },
          10_000,
          20,
        );
        assert.equal(settled.done, false, 'the write waits for the lease row instead of trusting its snapshot');
        await takeover.query('COMMIT');
        // …and once token 2 is committed, goes through with nothing written.
        const outcome = await write;
        assert.equal(outcome.held, false, 'the fence failed against the current lease');
        assert.deepEqual(outcome.written, []);
      } finally {
        takeover.release();
      }
      assert.deepEqual(await runCounts(), before, 'no run was recorded by the old leader');
    },
  );

  test(
    'a row locked by another transaction is skipped, reported as locked, and written later',
    { timeout: 30_000 },
    async () => {
      const grant = await store.acquireLease('rowlock', 'leader', 30);
      assert.ok(grant);
      const before = await runCounts();
      const blocker = await db.pool.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query(`UPDATE django_celery_beat_periodictask SET description = 'held' WHERE id = $1`, [
          taskIds[0],
        ]);
        const blockerPid = (await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        const started = Date.now();
        const outcome = await store.recordRuns(record(Date.now()), { name: 'rowlock', token: grant.token });
        assert.ok(Date.now() - started < 2000, 'it did not wait for the lock');
        assert.equal(outcome.held, true);
        assert.deepEqual(outcome.written, [taskIds[1]]);
        assert.deepEqual(outcome.locked, [taskIds[0]]);
        const [holder] = await store.rowLockHolders([taskIds[0]!]);
        assert.equal(holder?.pid, blockerPid, 'the blocking session is named');
        assert.equal(holder?.state, 'idle in transaction');
        await delay(10);
      } finally {
        await blocker.query('COMMIT');
        blocker.release();
      }
      const outcome = await store.recordRuns(record(Date.now()), { name: 'rowlock', token: grant.token });
      assert.deepEqual(outcome.locked, []);
      assert.deepEqual(await runCounts(), [before[0]! + 1, before[1]! + 2]);
    },
  );
});
