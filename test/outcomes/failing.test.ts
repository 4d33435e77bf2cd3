// FailingCheck: the whole list is read once per cache period (concurrent callers share it, a
// failed read is not kept), a page's ids are read each time, and the dbbeat_tasks_failing
// gauge follows the count at each scrape. A fake store: the SQL is tested in
// test/db/run-history-read.test.ts on both dialects.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { FailingQuery, FailingTask } from '../../src/db/run-store.js';
import { FailingCheck, gaugeFailingTasks } from '../../src/outcomes/failing.js';
import { Metrics } from '../../src/outcomes/metrics.js';

const task = (id: number): FailingTask => ({
  periodicTaskId: id,
  periodicTaskName: `t${id}`,
  reason: 'failures',
  failures: 3,
  lastRun: { id, taskId: `x${id}`, state: 'FAILURE', sentAt: 0, exceptionType: null, exceptionMessage: null },
});

test('the list is cached for cacheMs, shared by concurrent callers; a failed read is asked again', async () => {
  const queries: FailingQuery[] = [];
  let failing = [task(1), task(2)];
  let fail = false;
  const store = {
    failingTasks: (query: FailingQuery) => {
      queries.push(query);
      if (fail) return Promise.reject(new Error('database away'));
      return Promise.resolve(
        query.periodicTaskIds ? failing.filter((t) => query.periodicTaskIds!.includes(t.periodicTaskId)) : failing,
      );
    },
  };
  let now = 1_000;
  const check = new FailingCheck(store, { lastK: 4, cacheMs: 5000, now: () => now });
  assert.deepEqual(await Promise.all([check.count(), check.count()]), [2, 2]);
  assert.equal(queries.length, 1);
  assert.equal(queries[0]!.lastK, 4);
  failing = [task(2)];
  now += 4999;
  assert.equal(await check.count(), 2, 'still cached');
  now += 1;
  assert.equal(await check.count(), 1);
  assert.deepEqual([...(await check.of([1, 2])).keys()], [2], 'a page is read now');
  fail = true;
  now += 5000;
  await assert.rejects(check.all(), /database away/);
  fail = false;
  assert.equal(await check.count(), 1, 'the failed read was not kept');
});

test('the dbbeat_tasks_failing gauge is the count at each scrape', async () => {
  let failing = [task(1), task(2), task(3)];
  const check = new FailingCheck({ failingTasks: () => Promise.resolve(failing) }, { lastK: 3, cacheMs: 0 });
  const metrics = new Metrics({ processMetrics: false });
  gaugeFailingTasks(metrics, check);
  assert.match(await metrics.text(), /^dbbeat_tasks_failing 3$/m);
  failing = [];
  assert.match(await metrics.text(), /^dbbeat_tasks_failing 0$/m);
});
