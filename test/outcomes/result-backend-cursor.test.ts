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
import { ResultBackendPoller } from '../../src/outcomes/result-backend-poller.js';
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
