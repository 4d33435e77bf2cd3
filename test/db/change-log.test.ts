// The change triggers, the same rules on every dialect (test/support/dialects.ts): an edit
// of any column beat reads is logged and bumps last_update; the bookkeeping saves after a
// run are not, whether dbbeat's (last_run_at, total_run_count) or django-celery-beat's
// (a full save() that also moves date_changed, migrations 0006 / mysql/0005).
import assert from 'node:assert/strict';
import { before, beforeEach, describe, test } from 'node:test';

import { beatStoreFor, type OpenDatabase } from '../../src/db/open.js';
import type { BeatStore } from '../../src/db/store.js';
import { testDialects, withDialectDatabase } from '../support/dialects.js';

for (const dialect of testDialects) {
  describe(`change log on ${dialect.name}`, () => {
    const database = withDialectDatabase(dialect, 'dbbeat_changelog', { poolSize: 2 });
    let db: OpenDatabase;
    let store: BeatStore;
    let id: number;

    before(() => {
      db = database.db;
      store = beatStoreFor(db);
    });
    beforeEach(async () => {
      await dialect.reset(db);
      id = await dialect.insertTask(db, {
        name: 'watched',
        schedule: { interval: { every: 10, period: 'seconds' } },
        dateChanged: new Date('2026-11-30T10:00:00Z'),
      });
    });

    /** Runs `sql` on the task and returns how many change rows it logged for it, and whether last_update moved. */
    async function changesOf(sql: string, params: readonly unknown[]): Promise<{ ops: number; bumped: boolean }> {
      const lastUpdate = async () => {
        const value = (
          await dialect.query<{ last_update: unknown }>(
            db,
            'SELECT last_update FROM django_celery_beat_periodictasks WHERE ident = 1',
          )
        )[0]?.last_update;
        return value instanceof Date ? value.toISOString() : String(value);
      };
      const { top } = await store.changeFeedStart(10);
      const before = await lastUpdate();
      await new Promise((resolve) => setTimeout(resolve, 5)); // a later statement time, if it bumps
      await dialect.query(db, sql, params);
      const ops = (await store.readChanges(top, [])).filter(
        (change) => change.table === 'django_celery_beat_periodictask' && change.rowId === id,
      ).length;
      return { ops, bumped: (await lastUpdate()) !== before };
    }

    test("django-celery-beat's save after a run (last_run_at, total_run_count, date_changed) is not a change", async () => {
      const { ops, bumped } = await changesOf(
        `UPDATE django_celery_beat_periodictask
            SET last_run_at = $1, total_run_count = total_run_count + 1, date_changed = $2 WHERE id = $3`,
        [dialect.time(db, new Date('2026-11-30T12:00:00.5Z')), dialect.time(db, new Date('2026-11-30T12:00:01Z')), id],
      );
      assert.deepEqual({ ops, bumped }, { ops: 0, bumped: false });
    });

    test("dbbeat's own bookkeeping (last_run_at, total_run_count) is not a change", async () => {
      const { ops, bumped } = await changesOf(
        'UPDATE django_celery_beat_periodictask SET last_run_at = $1, total_run_count = total_run_count + 1 WHERE id = $2',
        [dialect.time(db, new Date('2026-11-30T12:00:00Z')), id],
      );
      assert.deepEqual({ ops, bumped }, { ops: 0, bumped: false });
    });

    test('a real edit is a change, also beside the bookkeeping columns', async () => {
      assert.deepEqual(await changesOf("UPDATE django_celery_beat_periodictask SET args = '[1]' WHERE id = $1", [id]), {
        ops: 1,
        bumped: true,
      });
      assert.deepEqual(
        await changesOf(
          'UPDATE django_celery_beat_periodictask SET last_run_at = $1, date_changed = $2, kwargs = \'{"a": 1}\' WHERE id = $3',
          [dialect.time(db, new Date('2026-11-30T12:00:00Z')), dialect.time(db, new Date('2026-11-30T12:00:02Z')), id],
        ),
        { ops: 1, bumped: true },
      );
      assert.deepEqual(
        await changesOf("UPDATE django_celery_beat_periodictask SET name = 'WATCHED' WHERE id = $1", [id]),
        { ops: 1, bumped: true },
        'a case-only rename counts',
      );
    });

    test('an edit of date_changed alone is not a change (Django moves it on every save)', async () => {
      const { ops } = await changesOf('UPDATE django_celery_beat_periodictask SET date_changed = $1 WHERE id = $2', [
        dialect.time(db, new Date('2026-11-30T13:00:00Z')),
        id,
      ]);
      assert.equal(ops, 0);
    });
  });
}
