// The load's page reads must not depend on planner statistics: right after a bulk insert,
// before any ANALYZE (the beat's runs beside the load), an open-ended keyset page
// (`id > $1 ORDER BY id LIMIT n`) is planned as a sequential scan and a sort of the whole
// table. The range read and the next-id probe stay on the primary key.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { openDatabase, type OpenDatabase } from '../../src/db/open.js';
import { enabledTasksSelect } from '../../src/db/postgres/enabled-tasks-copy.js';
import { LOAD_ENABLED_TASKS_RANGE, NEXT_ENABLED_TASK_ID } from '../../src/db/postgres/statements.js';
import { PostgresStore } from '../../src/db/postgres/store.js';
import { createMigratedDatabase, planNodeTypes, type TempDatabase } from '../support/postgres.js';

let temp: TempDatabase;
let db: OpenDatabase;
before(async () => {
  temp = await createMigratedDatabase('dbbeat_page_plan');
  db = await openDatabase({ databaseUrl: temp.url });
});
after(async () => {
  await db?.close();
  await temp?.drop();
});

function planOf(sql: string, params: unknown[]): Promise<string[]> {
  return planNodeTypes(db, sql, params);
}

test('without statistics, page reads scan a range of the primary key, and pages stay exact', async () => {
  const task = 'django_celery_beat_periodictask';
  await db.query(`ALTER TABLE ${task} SET (autovacuum_enabled = false)`);
  const [interval] = await db.query<{ id: number }>(
    `INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (60, 'seconds') RETURNING id`,
  );
  // Every 7th task disabled, and a gap in the ids: pages must skip both exactly.
  await db.query(
    `INSERT INTO ${task} (id, name, task, args, kwargs, enabled, total_run_count, date_changed, description,
       interval_id, one_off, headers)
     SELECT g, 'plan_' || g, 'x.y', '[]', '{}', g % 7 <> 0, 0, now(), '', $1, false, '{}'
     FROM generate_series(1, 60000) AS g WHERE g <= 30000 OR g > 45000`,
    [interval!.id],
  );
  const [stats] = await db.query<{ reltuples: number }>(`SELECT reltuples FROM pg_class WHERE relname = $1`, [task]);
  assert.equal(stats!.reltuples, -1, 'the table has no statistics yet');
  for (const [sql, params] of [
    [LOAD_ENABLED_TASKS_RANGE, [20000, 26250, 5000]],
    [NEXT_ENABLED_TASK_ID, [30000]],
    // The server's page read: the same range, by binary COPY of this SELECT.
    [enabledTasksSelect(20000, 26250, 5000), []],
  ] as const) {
    const types = await planOf(sql, [...params]);
    assert.ok(!types.includes('Seq Scan'), `plan: ${types.join(' > ')}`);
  }
  const store = new PostgresStore(db);
  const ids: number[] = [];
  for (let afterId = 0; ;) {
    const page = await store.loadEnabledPage(afterId, 5000);
    ids.push(...page.tasks.map((row) => row.id));
    if (page.tasks.length < 5000) break;
    afterId = page.tasks[page.tasks.length - 1]!.id;
  }
  const expected = [];
  for (let id = 1; id <= 60000; id++) if (id % 7 !== 0 && (id <= 30000 || id > 45000)) expected.push(id);
  assert.deepEqual(ids, expected);
});
