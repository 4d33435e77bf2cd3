// The result-backend poll walks all open runs in rounds (a keyset cursor over
// dbbeat_run.id, wrapping to the oldest after a short page), so runs that never get an
// outcome (ignore_result, expired results) cannot starve newer ones; and what it applies
// is counted in dbbeat_run_outcomes_total, checked by a real Prometheus text parser
// against the dbbeat_run rows. A private redis-server holds Celery's task meta keys as
// Celery's Redis backend writes them; the clock is injected.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Redis } from 'ioredis';

import { beatStoreFor, runStoreFor } from '../../src/db/open.js';
import { Metrics } from '../../src/outcomes/metrics.js';
import { RedisResultBackend, TASK_KEY_PREFIX } from '../../src/outcomes/result-backend-redis.js';
import { openResultBackend } from '../../src/outcomes/result-backend-open.js';
import { REPEATED_FAILURE_LOG_MS, ResultBackendPoller } from '../../src/outcomes/result-backend-poller.js';
import { ResultTableMissingError } from '../../src/outcomes/result-backend-sql.js';
import { testDialects, withDialectDatabase } from '../support/dialects.js';
import { withPrivateRedis } from '../support/private-redis.js';
import { parseMetrics, sampleValue, sumOf } from '../support/prometheus.js';
import { sentRun } from '../support/rows.js';

const silent = { debug: () => undefined, warn: () => undefined };
const T0 = Date.parse('2026-11-30T12:00:00.000Z');

const privateRedis = withPrivateRedis();

/** What Celery's Redis backend stores for a finished task (backends/base.py _get_result_meta). */
function meta(taskId: string, status: 'SUCCESS' | 'FAILURE', at: number): string {
  const dateDone = new Date(at).toISOString().replace('Z', '');
  return JSON.stringify(
    status === 'SUCCESS'
      ? { status, result: 42, traceback: null, children: [], date_done: dateDone, task_id: taskId }
      : {
          status,
          result: { exc_type: 'ValueError', exc_message: ['no'], exc_module: 'builtins' },
          traceback: 'Traceback (most recent call last):\nValueError: no\n',
          children: [],
          date_done: dateDone,
          task_id: taskId,
        },
  );
}

for (const dialect of testDialects) {
  describe(`result-backend poll rounds: ${dialect.name}`, () => {
    const database = withDialectDatabase(dialect, 'dbbeat_rbcursor');

    test('more open runs than a poll reads: the newest still gets its outcome; the outcome counters match the rows', async () => {
      const { db } = database;
      const id = await dialect.insertTask(db, {
        name: 'rounds',
        schedule: { interval: { every: 1, period: 'minutes' } },
      });
      const entry = (taskId: string, sentAt: number) => sentRun({ id, name: 'rounds' }, taskId, sentAt);
      // 7 old runs that never get a result (ignore_result), then 2 newer ones that do.
      const backendUrl = privateRedis().url(1);
      const stale = Array.from({ length: 7 }, (_, i) => `stale-${i}`);
      await beatStoreFor(db).insertRuns(stale.map((t, i) => entry(t, T0 + i * 1000)));
      await beatStoreFor(db).insertRuns([entry('new-ok', T0 + 60_000), entry('new-fail', T0 + 61_000)]);
      const client = new Redis(backendUrl);
      try {
        await client.set(`${TASK_KEY_PREFIX}new-ok`, meta('new-ok', 'SUCCESS', T0 + 62_000));
        await client.set(`${TASK_KEY_PREFIX}new-fail`, meta('new-fail', 'FAILURE', T0 + 63_000));
      } finally {
        client.disconnect();
      }

      const metrics = new Metrics({ processMetrics: false });
      const backend = new RedisResultBackend(backendUrl);
      let now = T0 + 120_000;
      const poller = new ResultBackendPoller(runStoreFor(db), backend, silent, () => true, {
        maxRuns: 3,
        now: () => now,
        onApplied: (runs) => metrics.applied(runs),
      });
      try {
        // Rounds of 3: stale 0-2, stale 3-5, stale-6 + new-ok + new-fail.
        const asked: number[] = [];
        const changed: number[] = [];
        for (let round = 0; round < 3; round += 1) {
          const report = await poller.pollOnce();
          asked.push(report.asked);
          changed.push(report.changed);
          now += 5000;
        }
        assert.deepEqual(asked, [3, 3, 3]);
        assert.deepEqual(changed, [0, 0, 2], 'the third round reaches the newest runs');
        // A short page wraps: the next round starts again from the oldest open run.
        const wrapped = await poller.pollOnce();
        assert.deepEqual([wrapped.asked, wrapped.changed], [0, 0], 'the cursor was past the last open run');
        assert.deepEqual([(await poller.pollOnce()).asked], [3], 'from the oldest again');
      } finally {
        await backend.close();
      }

      const rows = await db.query<{ task_id: string; state: string }>(
        "SELECT task_id, state FROM dbbeat_run WHERE state NOT IN ('SENT', 'SKIPPED')",
      );
      assert.deepEqual(Object.fromEntries(rows.map((r) => [r.task_id, r.state])), {
        'new-ok': 'SUCCESS',
        'new-fail': 'FAILURE',
      });
      const families = parseMetrics(await metrics.text());
      assert.equal(sampleValue(families, 'dbbeat_run_outcomes_total', { state: 'SUCCESS' }), 1);
      assert.equal(sampleValue(families, 'dbbeat_run_outcomes_total', { state: 'FAILURE' }), 1);
      assert.equal(sumOf(families, 'dbbeat_run_outcomes_total'), rows.length, 'one count per run that moved');
    });
  });
}

for (const dialect of testDialects) {
  describe(`result-backend table missing: ${dialect.name}`, () => {
    const database = withDialectDatabase(dialect, 'dbbeat_rbmissing');

    test('django-db on a database without django-celery-results: the table and the fix named, logged once, then every 10 min', async () => {
      const { db } = database;
      const id = await dialect.insertTask(db, {
        name: 'no results table',
        schedule: { interval: { every: 1, period: 'minutes' } },
      });
      await beatStoreFor(db).insertRuns([sentRun({ id, name: 'no results table' }, 'waiting-1', T0)]);
      const backend = openResultBackend('django-db', { databaseUrl: database.url });
      const warnings: string[] = [];
      const infos: string[] = [];
      const log = {
        debug: () => undefined,
        warn: (_: object, message?: string) => warnings.push(message ?? ''),
        info: (_: object, message?: string) => infos.push(message ?? ''),
      };
      let now = T0 + 60_000;
      const poller = new ResultBackendPoller(runStoreFor(db), backend, log, () => true, { now: () => now });
      try {
        await assert.rejects(poller.pollOnce(), (error: unknown) => {
          assert.ok(error instanceof ResultTableMissingError, String(error));
          assert.equal(error.table, 'django_celery_results_taskresult');
          assert.match(error.message, /manage\.py migrate django_celery_results/);
          assert.doesNotMatch(error.message, /:[^:@/]*@/, 'no password');
          return true;
        });
        // A poll every 5 s for 9 minutes: one warning.
        for (let i = 0; i < 108; i += 1, now += 5000) assert.equal(await poller.poll(), undefined);
        assert.equal(warnings.length, 1, warnings.join('\n'));
        assert.match(warnings[0]!, /table django_celery_results_taskresult does not exist in .*manage\.py migrate/);
        // Past 10 minutes since that warning: one reminder with the count.
        now = T0 + 60_000 + REPEATED_FAILURE_LOG_MS;
        await poller.poll();
        await poller.poll();
        assert.equal(warnings.length, 2, warnings.join('\n'));
        assert.match(warnings[1]!, /still failing after 109 polls/);
        // The table appears (Django migrated): the next poll reads, and says so once.
        await db.query(
          dialect.name === 'postgres'
            ? 'CREATE TABLE django_celery_results_taskresult (task_id varchar(255), status varchar(50), result text, content_encoding varchar(64), traceback text, worker varchar(100), date_done timestamptz)'
            : 'CREATE TABLE django_celery_results_taskresult (task_id varchar(255), status varchar(50), result longtext, content_encoding varchar(64), traceback longtext, worker varchar(100), date_done datetime(6))',
        );
        assert.deepEqual(await poller.poll(), { asked: 1, found: 0, changed: 0 });
        assert.deepEqual(infos, ['result backend: reading outcomes again']);
      } finally {
        await backend.close();
      }
    });
  });
}
