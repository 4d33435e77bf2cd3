// A bulk insert of a million tasks logs a million changes. Right after it, before
// autovacuum has analysed dbbeat_change, the planner took the change log for a table of
// unknown size and read it by a parallel sequential scan on every change-feed read (one
// before each batch a burst sends): a 1M burst spent half its time waiting for them.
// The beat's start-up ANALYZE of tables without statistics now includes the change log.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { openDatabase, type OpenDatabase } from '../../src/db/open.js';
import { READ_CHANGES_AFTER } from '../../src/db/postgres/statements.js';
import { PostgresStore } from '../../src/db/postgres/store.js';
import { createMigratedDatabase, planNodeTypes, type TempDatabase } from '../support/postgres.js';

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

test('after a bulk write, the start-up ANALYZE covers the change log, and reading new changes uses its index', async () => {
  await db.query(
    `INSERT INTO dbbeat_change (table_name, row_id, op) SELECT 'django_celery_beat_periodictask', g, 'I' FROM generate_series(1, 200000) AS g`,
  );
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
