// A bulk insert of a million tasks logs a million changes. Right after it, before
// autovacuum has analysed dbbeat_change, the planner took the change log for a table of
// unknown size and read it by a parallel sequential scan on every change-feed read (one
// before each batch a burst sends): a 1M burst spent half its time waiting for them.
// The beat's start-up ANALYZE of tables without statistics now includes the change log.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import pg from 'pg';

import { openDatabase, type OpenDatabase } from '../../src/db/open.js';
import { READ_CHANGES_AFTER } from '../../src/db/postgres/statements.js';
import { PostgresStore } from '../../src/db/postgres/store.js';
import { createMigratedDatabase, planNodeTypes, type TempDatabase } from '../support/postgres.js';
import { waitFor } from '../support/wait.js';

let temp: TempDatabase;
let db: OpenDatabase;
before(async () => {
  temp = await createMigratedDatabase('dbbeat_change_stats');
  db = await openDatabase({ databaseUrl: temp.url });
});
after(async () => {
  await db?.close();
  await temp?.drop();
});

/**
 * Writes 200,000 changes in a session of its own and waits until the server's statistics
 * count them. A backend reports its counts up to seconds after its commit (PostgreSQL 15
 * batches them): counted after the ANALYZE, they would ask for a second one.
 */
async function bulkWriteChanges(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO dbbeat_change (table_name, row_id, op) SELECT 'django_celery_beat_periodictask', g, 'I' FROM generate_series(1, 200000) AS g`,
    );
    await waitFor(
      'the bulk write counted in pg_stat_user_tables',
      async () => {
        await client.query('SELECT pg_stat_force_next_flush()');
        const [row] = (
          await client.query<{ inserted: string }>(
            `SELECT coalesce(n_tup_ins, 0)::text AS inserted FROM pg_stat_user_tables WHERE relname = 'dbbeat_change'`,
          )
        ).rows;
        return Number(row?.inserted ?? 0) >= 200_000 ? true : undefined;
      },
      { intervalMs: 100 },
    );
  } finally {
    await client.end();
  }
}

test('after a bulk write, the start-up ANALYZE covers the change log, and reading new changes uses its index', async () => {
  // Autovacuum may analyse the fresh table first, on a server of its own timing; here the
  // start-up ANALYZE is what is tested.
  await db.query('ALTER TABLE dbbeat_change SET (autovacuum_enabled = false)');
  await bulkWriteChanges(temp.url);
  const analysed = await new PostgresStore(db).ensureStatistics();
  assert.ok(analysed.includes('dbbeat_change'), `analysed: ${analysed.join(', ')}`);
  const [{ top }] = (await db.query<{ top: string }>('SELECT max(id)::text AS top FROM dbbeat_change')) as [
    { top: string },
  ];
  const types = await planNodeTypes(db, READ_CHANGES_AFTER, [top, []]);
  assert.ok(!types.includes('Seq Scan'), `plan: ${types.join(' > ')}`);
  // Analysed once: a second start finds statistics in place.
  assert.deepEqual(await new PostgresStore(db).ensureStatistics(), []);
});
