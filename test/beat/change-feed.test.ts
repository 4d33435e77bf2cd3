// The change feed reads each change once, also when transactions commit out of id order,
// and starts after what a full load covers. Against PostgreSQL and embedded PGlite.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import pg from 'pg';

import { ChangeFeed } from '../../src/beat/change-feed.js';
import type { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { beatStoreFor, openDatabase } from '../../src/db/open.js';
import { PGliteDatabase } from '../../src/db/pglite/connection.js';
import { createTempDatabase, type TempDatabase, waitUntilWaitingOnLock } from '../support/postgres.js';
import { insertTask } from '../support/rows.js';

type Queryable = { query(sql: string, params?: unknown[]): Promise<{ rows: { id: number }[] }> };

function asQueryable(db: Database): Queryable {
  return { query: async (sql, params) => ({ rows: await db.query<{ id: number }>(sql, params) }) };
}

async function feedContract(db: Database): Promise<void> {
  const rows = asQueryable(db);
  // Changes made before the feed starts are covered by the full load that follows.
  await insertTask(rows as never, { name: 'before-start', schedule: { interval: { every: 1, period: 'hours' } } });
  const feed = new ChangeFeed(beatStoreFor(db));
  await feed.startNow();
  assert.deepEqual(await feed.changedTaskIds(), []);

  const id = await insertTask(rows as never, {
    name: 'after-start',
    schedule: { interval: { every: 1, period: 'hours' } },
  });
  assert.deepEqual(await feed.changedTaskIds(), [id]);
  assert.deepEqual(await feed.changedTaskIds(), [], 'each change is read once');

  // A schedule edit names the tasks that use it.
  await db.query(
    `UPDATE django_celery_beat_intervalschedule SET every = 2
                  WHERE id = (SELECT interval_id FROM django_celery_beat_periodictask WHERE id = $1)`,
    [id],
  );
  assert.deepEqual(await feed.changedTaskIds(), [id]);

  // Bookkeeping writes are not changes.
  await db.query(`UPDATE django_celery_beat_periodictask SET last_run_at = now(), total_run_count = 1 WHERE id = $1`, [
    id,
  ]);
  assert.deepEqual(await feed.changedTaskIds(), []);
}

describe('change feed on PostgreSQL', () => {
  let temp: TempDatabase;
  let db: Database & { close(): Promise<void> };

  before(async () => {
    temp = await createTempDatabase();
    db = await openDatabase({ databaseUrl: temp.url });
    await migrate(db);
  });
  after(async () => {
    await db?.close();
    await temp?.drop();
  });

  test('reads each change once, from the start on', () => feedContract(db));

  /**
   * Runs `write` with two writers in open transactions (`second` began first; each commits
   * only when the test says so) and a wait until `second` is blocked on the lock `first`
   * holds: writers queue on PeriodicTasks' row, which the change trigger bumps, after the
   * change's id is taken, so a blocked writer holds an id below the ones `first` takes next.
   */
  async function withTwoWriters(
    write: (first: pg.Client, second: pg.Client, secondBlocked: () => Promise<void>) => Promise<void>,
  ): Promise<void> {
    const first = new pg.Client({ connectionString: temp.url });
    const second = new pg.Client({ connectionString: temp.url });
    await first.connect();
    await second.connect();
    try {
      const secondPid = (await second.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await second.query('BEGIN');
      await first.query('BEGIN');
      await write(first, second, () => waitUntilWaitingOnLock((sql, params) => db.query(sql, params), secondPid));
    } finally {
      await first.end();
      await second.end();
    }
  }

  test('a change that commits after a newer one is still read', async () => {
    const feed = new ChangeFeed(beatStoreFor(db));
    await feed.startNow();
    await withTwoWriters(async (first, second, secondBlocked) => {
      // In autocommit, `second`'s change could land before the read below once `first`
      // commits (a race, not the case): it commits only after that read.
      const a = await insertTask(first, { name: 'first-a', schedule: { interval: { every: 1, period: 'hours' } } });
      const blocked = insertTask(second, { name: 'second', schedule: { interval: { every: 1, period: 'hours' } } });
      await secondBlocked();
      const b = await insertTask(first, { name: 'first-b', schedule: { interval: { every: 1, period: 'hours' } } });
      await first.query('COMMIT');
      assert.deepEqual(
        (await feed.changedTaskIds()).sort((x, y) => x - y),
        [a, b],
      );
      const late = await blocked;
      await second.query('COMMIT');
      assert.deepEqual(await feed.changedTaskIds(), [late]);
      assert.deepEqual(await feed.changedTaskIds(), []);
    });
  });

  test('a change in flight when the feed starts is read once it commits', async () => {
    const edited = await insertTask(asQueryable(db) as never, {
      name: 'edited-in-flight',
      schedule: { interval: { every: 1, period: 'hours' } },
    });
    await withTwoWriters(async (first, second, secondBlocked) => {
      // `second`'s edit takes its one change id and stays uncommitted while the feed starts:
      // a hole below the top, which only the start's hole list finds.
      await insertTask(first, { name: 'before-a', schedule: { interval: { every: 1, period: 'hours' } } });
      const blocked = second.query(`UPDATE django_celery_beat_periodictask SET args = '[1]' WHERE id = $1`, [edited]);
      await secondBlocked();
      await insertTask(first, { name: 'before-b', schedule: { interval: { every: 1, period: 'hours' } } });
      await first.query('COMMIT');
      await blocked;
      const feed = new ChangeFeed(beatStoreFor(db));
      await feed.startNow();
      assert.deepEqual(await feed.changedTaskIds(), []);
      await second.query('COMMIT');
      assert.deepEqual(await feed.changedTaskIds(), [edited]);
      assert.deepEqual(await feed.changedTaskIds(), []);
    });
  });

  test('a rolled-back change leaves a hole that does not stop later changes', async () => {
    const feed = new ChangeFeed(beatStoreFor(db));
    await feed.startNow();
    await db
      .transaction(async (tx) => {
        await tx.query(`INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (5, 'minutes')`);
        await tx.query('ROLLBACK').catch(() => undefined);
      })
      .catch(() => undefined);
    const id = await insertTask(asQueryable(db) as never, {
      name: 'after-hole',
      schedule: { interval: { every: 1, period: 'hours' } },
    });
    assert.deepEqual(await feed.changedTaskIds(), [id]);
    assert.deepEqual(await feed.changedTaskIds(), []);
  });
});

describe('change feed on PGlite', () => {
  let db: PGliteDatabase;
  before(async () => {
    db = await PGliteDatabase.openInMemory();
    await migrate(db);
  });
  after(async () => {
    await db?.close();
  });

  test('reads each change once, from the start on', () => feedContract(db));
});
