// Public bug reports in which Django writes the rows, replayed against dbbeat: the real
// Django and django-celery-beat (Debian's, through /usr/bin/python3, test/django/django_replays.py)
// make the reported ORM calls on the database an in-process beat (fake clock, memory broker,
// test/beat/in-process.ts) schedules from, on PostgreSQL.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { postgresDialect } from '../support/dialects.js';
import { BenchPerTest } from '../beat/in-process.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
/** A Monday, on the hour: 2030-01-07T10:00:00Z. */
const T0 = Date.parse('2030-01-07T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('replayed reports: Django writes, dbbeat schedules', () => {
  const beats = new BenchPerTest(postgresDialect);

  /** Runs one step of django_replays.py; returns its output. */
  async function django(...args: string[]): Promise<string> {
    const { stdout } = await run('/usr/bin/python3', [`${here}/django_replays.py`, ...args], {
      env: { ...process.env, DBBEAT_DJANGO_DATABASE_URL: beats.bench.temp.url, PYTHONPATH: here },
      timeout: 60_000,
    });
    return stdout;
  }

  test('a crontab edited in Django admin (CrontabSchedule.save(), the task row untouched) is followed without a restart (https://github.com/celery/django-celery-beat/issues/42, https://github.com/celery/django-celery-beat/issues/7)', async () => {
    await beats.bench.insertTask({
      name: 'nightly',
      schedule: { crontab: { minute: '0', hour: '4' } },
      dateChanged: new Date(T0 - HOUR),
    });
    const running = await beats.start(T0 + 10 * S, { maxInterval: 5 });
    await django('crontab', 'nightly', '*', '*');
    await running.runUntil(T0 + 2 * MIN);
    assert.deepEqual(running.broker.slotsOf('nightly'), [iso(T0 + MIN), iso(T0 + 2 * MIN)]);
  });

  test("a pause through Django's queryset update() (no save(), last_run_at kept) gives no run on resume for the slot missed (https://github.com/celery/django-celery-beat/issues/510)", async () => {
    await beats.bench.insertTask({
      name: 'hourly',
      schedule: { interval: { every: 1, period: 'hours' } },
      lastRunAt: new Date(T0 - 59 * MIN),
    });
    const running = await beats.start(T0, { maxInterval: 5 });
    await django('bulk', 'hourly', 'false');
    await running.runUntil(T0 + 5 * MIN); // its slot, T0 + 1 min, passes while it is paused
    await django('bulk', 'hourly', 'true');
    await running.runUntil(T0 + 6 * MIN);
    assert.deepEqual(running.broker.slotsOf('hourly'), [], 'no run on resume');
    await running.runUntil(T0 + 66 * MIN);
    assert.equal(running.broker.slotsOf('hourly').length, 1, 'an hour after the resume');
  });

  test('last_run_at and total_run_count, as Django reads them, follow every run (https://github.com/celery/django-celery-beat/issues/674, https://github.com/celery/django-celery-beat/issues/60, https://github.com/celery/django-celery-beat/issues/320)', async () => {
    await beats.bench.insertTask({
      name: 'counted',
      schedule: { interval: { every: 10, period: 'seconds' } },
      dateChanged: new Date(T0),
    });
    const running = await beats.start(T0, { maxInterval: 5 });
    for (const k of [1, 2, 3]) {
      await running.runUntil(T0 + k * 10 * S);
      assert.equal(running.broker.slotsOf('counted').length, k);
      const row = JSON.parse(await django('row', 'counted')) as { last_run_at: string; total_run_count: number };
      assert.equal(row.total_run_count, k, `after run ${k}`);
      assert.equal(Date.parse(row.last_run_at), T0 + k * 10 * S, `after run ${k}`);
    }
  });
});
