// Public bug reports of django-celery-beat and Celery beat, replayed against dbbeat's beat:
// each test is one report's scenario (its URL in the test's name), on a beat in this
// process with a fake clock, an in-memory broker and a real database — PostgreSQL and
// MariaDB (test/support/dialects.ts). What dbbeat must do is Celery's and
// django-celery-beat's documented meaning (README "Around the schedule"); where dbbeat
// differs on purpose, the README says so.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createBaseClient } from '../../src/model/client.js';
import { setTasksEnabled, updateTask } from '../../src/model/task-edit.js';
import { testDialects } from '../support/dialects.js';
import type { TaskRowInput } from '../support/rows.js';
import { type BeatBench, BenchPerTest, type RunningBeat } from './in-process.js';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** A Monday, on the hour: 2030-01-07T10:00:00Z. */
const T0 = Date.parse('2030-01-07T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const at = (text: string) => Date.parse(text);

for (const dialect of testDialects) {
  describe(`replayed reports: run rules on ${dialect.name}`, () => {
    const beats = new BenchPerTest(dialect);

    async function task(input: Omit<TaskRowInput, 'dateChanged'> & { dateChanged?: Date }): Promise<number> {
      return beats.bench.insertTask({ dateChanged: new Date(T0 - HOUR), ...input });
    }

    async function start(now = T0, options: Parameters<BeatBench['start']>[1] = {}): Promise<RunningBeat> {
      return beats.start(now, options);
    }

    async function stop(): Promise<void> {
      await beats.stop();
    }

    test('a one-off task does not run again when beat restarts seconds after its run (https://github.com/celery/django-celery-beat/issues/828)', async () => {
      const id = await task({
        name: 'once',
        schedule: { interval: { every: 30, period: 'seconds' } },
        oneOff: true,
        dateChanged: new Date(T0 - 20 * S),
      });
      const first = await start();
      await first.runUntil(T0 + 10 * S);
      assert.deepEqual(first.broker.slotsOf('once'), [iso(T0 + 10 * S)]);
      await stop();
      const second = await start(T0 + 15 * S);
      await second.runUntil(T0 + 5 * MIN);
      assert.deepEqual(second.broker.slotsOf('once'), [], 'not sent again after the restart');
      // The count stays 1 (django-celery-beat resets it to 0: https://github.com/celery/django-celery-beat/issues/733).
      assert.deepEqual(await beats.bench.row(id), {
        last_run_at: new Date(T0 + 10 * S),
        total_run_count: 1,
        enabled: false,
      });
    });

    test('two one-off tasks on one clocked schedule both run (https://github.com/celery/django-celery-beat/issues/283)', async () => {
      const first = await task({
        name: 'event 1',
        schedule: { clocked: { clocked_time: new Date(T0 + 30 * S) } },
        oneOff: true,
      });
      const second = await task({
        name: 'event 2',
        schedule: { clocked: { clocked_time: new Date(T0 + 30 * S) } },
        oneOff: true,
      });
      const rows = await beats.bench.dialect.query<{ clocked_id: number }>(
        beats.bench.db,
        'SELECT clocked_id FROM django_celery_beat_periodictask WHERE id = $1',
        [first],
      );
      await beats.bench.sql('UPDATE django_celery_beat_periodictask SET clocked_id = $1 WHERE id = $2', [
        rows[0]!.clocked_id,
        second,
      ]);
      const beat = await start();
      await beat.runUntil(T0 + MIN);
      assert.deepEqual(beat.broker.slotsOf('event 1'), [iso(T0 + 30 * S)]);
      assert.deepEqual(beat.broker.slotsOf('event 2'), [iso(T0 + 30 * S)]);
      assert.equal((await beats.bench.row(first)).enabled, false);
      assert.equal((await beats.bench.row(second)).enabled, false);
    });

    test('a clocked task that already ran, and a disabled one-off task, do not stop an interval task (https://github.com/celery/django-celery-beat/issues/299, https://github.com/celery/django-celery-beat/pull/185)', async () => {
      await task({
        name: 'clocked done',
        schedule: { clocked: { clocked_time: new Date(T0 - DAY) } },
        oneOff: true,
        lastRunAt: new Date(T0 - DAY),
      });
      await task({
        name: 'one-off done',
        schedule: { interval: { every: 10, period: 'seconds' } },
        oneOff: true,
        enabled: false,
        lastRunAt: new Date(T0 - MIN),
      });
      await task({
        name: 'every 10 s',
        schedule: { interval: { every: 10, period: 'seconds' } },
        dateChanged: new Date(T0),
      });
      const beat = await start();
      await beat.runUntil(T0 + MIN);
      assert.deepEqual(
        beat.broker.slotsOf('every 10 s'),
        [10, 20, 30, 40, 50, 60].map((s) => iso(T0 + s * S)),
      );
      assert.deepEqual(beat.broker.slotsOf('clocked done'), [], 'a clocked task runs once');
      assert.deepEqual(beat.broker.slotsOf('one-off done'), []);
    });

    test('a task whose start_time is tomorrow does not hold back tasks with the same interval (https://github.com/celery/django-celery-beat/issues/195, https://github.com/celery/django-celery-beat/issues/843)', async () => {
      await task({
        name: 'today',
        schedule: { interval: { every: 10, period: 'seconds' } },
        startTime: new Date(T0),
        dateChanged: new Date(T0 - MIN),
      });
      await task({
        name: 'tomorrow',
        schedule: { interval: { every: 10, period: 'seconds' } },
        startTime: new Date(T0 + DAY),
        dateChanged: new Date(T0 - MIN),
      });
      const beat = await start();
      await beat.runUntil(T0 + 30 * S);
      assert.deepEqual(
        beat.broker.slotsOf('today'),
        [0, 10, 20, 30].map((s) => iso(T0 + s * S)),
      );
      assert.deepEqual(beat.broker.slotsOf('tomorrow'), []);
    });

    test('a never-run crontab task with a past start_time waits for its time instead of running at beat start (https://github.com/celery/django-celery-beat/issues/912)', async () => {
      // Now 14:00; start_time 13:58; `0 15 * * *`; the row was saved at 13:58.
      const now = at('2030-01-07T14:00:00Z');
      await task({
        name: 'at 15',
        schedule: { crontab: { minute: '0', hour: '15' } },
        startTime: new Date(now - 2 * MIN),
        dateChanged: new Date(now - 2 * MIN),
      });
      const beat = await start(now, { maxInterval: 3600 });
      assert.deepEqual(beat.broker.slotsOf('at 15'), [], 'nothing at beat start');
      await beat.runUntil(at('2030-01-07T15:00:00Z'));
      assert.deepEqual(beat.broker.slotsOf('at 15'), ['2030-01-07T15:00:00.000Z']);
    });

    test('a task disabled and enabled again does not run at once for the slots it missed meanwhile (https://github.com/celery/django-celery-beat/issues/510, https://github.com/celery/django-celery-beat/issues/383, https://github.com/celery/django-celery-beat/issues/537)', async () => {
      // Daily at 09:00 and hourly, both last run on time; paused (a bulk UPDATE, as the admin
      // action of #510 does) at 08:30 and resumed at 10:15, after 09:00 had passed.
      const start0 = at('2030-01-07T08:00:00Z');
      const daily = await task({
        name: 'daily',
        schedule: { crontab: { minute: '0', hour: '9' } },
        lastRunAt: new Date(at('2030-01-06T09:00:00Z')),
      });
      const hourly = await task({
        name: 'hourly',
        schedule: { interval: { every: 1, period: 'hours' } },
        lastRunAt: new Date(start0),
      });
      const beat = await start(start0, { maxInterval: 60 });
      await beat.runUntil(at('2030-01-07T08:30:00Z'));
      await beats.bench.sql('UPDATE django_celery_beat_periodictask SET enabled = false WHERE id IN ($1, $2)', [
        daily,
        hourly,
      ]);
      await beat.runUntil(at('2030-01-07T10:15:00Z'));
      await beats.bench.sql('UPDATE django_celery_beat_periodictask SET enabled = true WHERE id IN ($1, $2)', [
        daily,
        hourly,
      ]);
      await beat.runUntil(at('2030-01-07T10:16:00Z'));
      assert.deepEqual(beat.broker.slotsOf('daily'), [], 'no run for 09:00 on resume');
      assert.deepEqual(beat.broker.slotsOf('hourly'), [], 'no run for 09:00 on resume');
      await beat.runUntil(at('2030-01-07T11:16:00Z'));
      assert.deepEqual(beat.broker.slotsOf('hourly').length, 1, 'hourly again, an hour after the resume');
      await beat.runUntil(at('2030-01-08T09:00:00Z'));
      assert.deepEqual(beat.broker.slotsOf('daily'), ['2030-01-08T09:00:00.000Z']);
    });

    test('paused and resumed through dbbeat (console, dbbeat tasks) across a beat restart: no run at once on resume (https://github.com/celery/django-celery-beat/issues/709, https://github.com/celery/django-celery-beat/pull/501)', async () => {
      // The API writes date_changed by the real clock, so this beat's fake clock starts at real time.
      const realNow = Date.now();
      const hourly = { interval: { every: 1, period: 'hours' } };
      const bulk = await task({ name: 'bulk', schedule: hourly, lastRunAt: new Date(realNow - 3 * HOUR) });
      const edited = await task({ name: 'edited', schedule: hourly, lastRunAt: new Date(realNow - 3 * HOUR) });
      const prisma = createBaseClient(beats.bench.db);
      try {
        await setTasksEnabled(prisma, [bulk], false);
        await updateTask(prisma, edited, { enabled: false });
        assert.equal(
          (await beats.bench.row(bulk)).last_run_at,
          null,
          "disabling clears last_run_at, as Django's save()",
        );
        assert.equal((await beats.bench.row(edited)).last_run_at, null);
        // No beat ran while they were paused; resumed two hours after their last due run.
        await setTasksEnabled(prisma, [bulk], true);
        await updateTask(prisma, edited, { enabled: true });
      } finally {
        await prisma.$disconnect();
      }
      const resumedAt = Date.now();
      const beat = await start(resumedAt + S, { maxInterval: 3600, leaseSeconds: 3600 });
      await beat.runUntil(resumedAt + HOUR - 2 * S);
      assert.deepEqual(beat.broker.slotsOf('bulk'), [], 'no run on resume');
      assert.deepEqual(beat.broker.slotsOf('edited'), [], 'no run on resume');
      await beat.runUntil(resumedAt + HOUR + 2 * S);
      assert.equal(beat.broker.slotsOf('bulk').length, 1, 'an hour after the resume');
      assert.equal(beat.broker.slotsOf('edited').length, 1, 'an hour after the resume');
    });

    test('beat down over a slot and started 5 min before the next: one catch-up run, then the next slot; with --starting-deadline only the next slot (https://github.com/celery/django-celery-beat/issues/537)', async () => {
      await task({
        name: 'hourly',
        schedule: { crontab: { minute: '0' } },
        lastRunAt: new Date(T0 - 2 * HOUR), // ran at 08:00; down from 08:55; 09:00 missed
      });
      const beat = await start(T0 - 5 * MIN, { maxInterval: 3600, leaseSeconds: 3600 });
      await beat.runUntil(T0);
      assert.deepEqual(beat.broker.slotsOf('hourly'), [iso(T0 - HOUR), iso(T0)], 'the catch-up run, then 10:00');
      assert.deepEqual(beat.broker.sentAtOf('hourly'), [iso(T0 - 5 * MIN), iso(T0)]);
      await stop();
      await beats.bench.reset();
      await task({ name: 'hourly', schedule: { crontab: { minute: '0' } }, lastRunAt: new Date(T0 - 2 * HOUR) });
      const strict = await start(T0 - 5 * MIN, { maxInterval: 3600, leaseSeconds: 3600, startingDeadline: 60 });
      await strict.runUntil(T0);
      assert.deepEqual(strict.broker.slotsOf('hourly'), [iso(T0)], 'the late run skipped');
    });

    test('a task is not sent again when another task (a one-off) changes right after the run (https://github.com/celery/celery/issues/7577, https://github.com/celery/django-celery-beat/issues/222)', async () => {
      const hourly = await task({
        name: 'hourly',
        schedule: { crontab: { minute: '0' } },
        lastRunAt: new Date(T0 - HOUR),
      });
      await task({
        name: 'short one-off',
        schedule: { interval: { every: 1, period: 'minutes' } },
        oneOff: true,
        startTime: new Date(T0),
      });
      const beat = await start(T0 - 30 * S, { maxInterval: 5 });
      await beat.runUntil(T0);
      // Saves while the hourly run is out: its own row (args) and the other task's.
      await beats.bench.sql(`UPDATE django_celery_beat_periodictask SET args = '[1]' WHERE id = $1`, [hourly]);
      await beats.bench.sql(
        `UPDATE django_celery_beat_periodictask SET description = 'x' WHERE name = 'short one-off'`,
      );
      await beat.runUntil(T0 + 2 * HOUR);
      assert.deepEqual(beat.broker.slotsOf('hourly'), [iso(T0), iso(T0 + HOUR), iso(T0 + 2 * HOUR)]);
      assert.deepEqual(beat.broker.slotsOf('short one-off'), [iso(T0)]);
    });

    test('expire_seconds: every run expires that long after it is sent, not once for all (https://github.com/celery/django-celery-beat/issues/394, https://github.com/celery/django-celery-beat/issues/592)', async () => {
      await task({
        name: 'ttl',
        schedule: { interval: { every: 30, period: 'seconds' } },
        dateChanged: new Date(T0),
        expireSeconds: 10,
      });
      const beat = await start();
      await beat.runUntil(T0 + 60 * S);
      assert.deepEqual(
        beat.broker.received.map((r) => r.message.expires?.toISOString()),
        [iso(T0 + 40 * S), iso(T0 + 70 * S)],
      );
    });

    test('a long max-interval does not delay a run due sooner (https://github.com/celery/celery/issues/7290)', async () => {
      await task({
        name: 'every 5 min',
        schedule: { interval: { every: 5, period: 'minutes' } },
        dateChanged: new Date(T0),
      });
      await task({
        name: 'in 13 s',
        schedule: { interval: { every: 1, period: 'hours' } },
        startTime: new Date(T0 + 13 * S),
        dateChanged: new Date(T0),
      });
      const beat = await start(T0, { maxInterval: 300 });
      await beat.runUntil(T0 + 20 * S);
      assert.deepEqual(beat.broker.slotsOf('in 13 s'), [iso(T0 + 13 * S)]);
      assert.deepEqual(
        beat.broker.sentAtOf('in 13 s'),
        [iso(T0 + 13 * S)],
        'sent on time, not at the next max-interval',
      );
    });

    test('an interval task with start_time in 30 s runs at start_time, then a day later (https://github.com/celery/django-celery-beat/issues/259, https://github.com/celery/django-celery-beat/issues/425)', async () => {
      await task({
        name: 'daily from start',
        schedule: { interval: { every: 1, period: 'days' } },
        startTime: new Date(T0 + 30 * S),
        dateChanged: new Date(T0),
      });
      const beat = await start(T0, { maxInterval: 3600, leaseSeconds: 3600 });
      await beat.runUntil(T0 + DAY + 30 * S);
      assert.deepEqual(beat.broker.slotsOf('daily from start'), [iso(T0 + 30 * S), iso(T0 + DAY + 30 * S)]);
    });

    test('a solar event that does not happen (polar day) neither crashes beat nor holds back others (https://github.com/celery/django-celery-beat/issues/55)', async () => {
      // Svalbard in June: the sun never goes 18 degrees below the horizon.
      await task({
        name: 'astronomical dawn',
        schedule: { solar: { event: 'dawn_astronomical', latitude: 78.22, longitude: 15.65 } },
        dateChanged: new Date(at('2030-06-20T00:00:00Z')),
      });
      await task({
        name: 'every 10 s',
        schedule: { interval: { every: 10, period: 'seconds' } },
        dateChanged: new Date(at('2030-06-21T00:00:00Z')),
      });
      const beat = await start(at('2030-06-21T00:00:00Z'));
      await beat.runUntil(at('2030-06-21T00:01:00Z'));
      assert.equal(beat.broker.slotsOf('every 10 s').length, 6);
      assert.deepEqual(beat.broker.slotsOf('astronomical dawn'), []);
    });

    describe('time zones', () => {
      test('with DJANGO_CELERY_BEAT_TZ_AWARE=False and CELERY_TIMEZONE=Europe/Moscow, `45 9 * * *` runs once a day at 09:45 Moscow time (https://github.com/celery/celery/issues/4743, https://github.com/celery/django-celery-beat/issues/5)', async () => {
        await task({
          name: 'statistics',
          schedule: { crontab: { minute: '45', hour: '9', timezone: 'UTC' } },
          lastRunAt: new Date(at('2030-01-06T06:45:00Z')),
        });
        const beat = await start(at('2030-01-07T06:00:00Z'), {
          djangoTzAware: false,
          timezone: 'Europe/Moscow',
          maxInterval: 3600,
          leaseSeconds: 3600,
        });
        await beat.runUntil(at('2030-01-08T12:00:00Z'));
        assert.deepEqual(beat.broker.slotsOf('statistics'), ['2030-01-07T06:45:00.000Z', '2030-01-08T06:45:00.000Z']);
      });

      const dayBench = { maxInterval: 3600, leaseSeconds: 3600 };

      test('`*/15 10-23 * * *` in Asia/Kolkata runs only between 10:00 and 23:45 there (https://github.com/celery/django-celery-beat/issues/354)', async () => {
        await task({
          name: 'office hours',
          schedule: { crontab: { minute: '*/15', hour: '10-23', timezone: 'Asia/Kolkata' } },
          lastRunAt: new Date(at('2030-01-06T18:15:00Z')), // 23:45 IST, the last run of the day before
        });
        const beat = await start(at('2030-01-06T18:30:00Z'), dayBench);
        await beat.runUntil(at('2030-01-07T18:30:00Z'));
        const slots = beat.broker.slotsOf('office hours');
        assert.equal(slots.length, 14 * 4, 'every quarter hour from 10:00 to 23:45, once');
        assert.equal(slots[0], '2030-01-07T04:30:00.000Z', '10:00 IST');
        assert.equal(slots.at(-1), '2030-01-07T18:15:00.000Z', '23:45 IST');
      });

      test('a monthly 09:00 task in Europe/Lisbon runs once that day, at 09:00 there (https://github.com/celery/celery/issues/5174)', async () => {
        await task({
          name: 'monthly digest',
          schedule: { crontab: { minute: '0', hour: '9', day_of_month: '15', timezone: 'Europe/Lisbon' } },
          lastRunAt: new Date(at('2030-10-15T08:00:00Z')), // 09:00 WEST
        });
        const beat = await start(at('2030-11-14T00:00:00Z'), dayBench);
        await beat.runUntil(at('2030-11-16T00:00:00Z'));
        assert.deepEqual(beat.broker.slotsOf('monthly digest'), ['2030-11-15T09:00:00.000Z']);
      });
    });

    describe('daylight saving time', () => {
      const hourlyBench = { maxInterval: 3600, leaseSeconds: 3600 };

      test('an hourly crontab runs in both passes of the repeated hour (https://github.com/celery/celery/issues/10107)', async () => {
        // US/Pacific falls back on 2030-11-03: 01:00 PDT (08:00Z), then 01:00 PST (09:00Z).
        await task({
          name: 'hourly',
          schedule: { crontab: { minute: '0', timezone: 'US/Pacific' } },
          lastRunAt: new Date(at('2030-11-03T07:00:00Z')),
        });
        const beat = await start(at('2030-11-03T07:30:00Z'), hourlyBench);
        await beat.runUntil(at('2030-11-03T10:30:00Z'));
        assert.deepEqual(beat.broker.slotsOf('hourly'), [
          '2030-11-03T08:00:00.000Z',
          '2030-11-03T09:00:00.000Z',
          '2030-11-03T10:00:00.000Z',
        ]);
      });

      test('a weekly noon task runs once, at noon, after clocks fall back (https://github.com/celery/celery/issues/1604)', async () => {
        // Europe/Amsterdam falls back on Sunday 2030-10-27; Monday 12:00 CET is 11:00Z.
        await task({
          name: 'monday noon',
          schedule: { crontab: { minute: '0', hour: '12', day_of_week: '1', timezone: 'Europe/Amsterdam' } },
          lastRunAt: new Date(at('2030-10-21T10:00:00Z')),
        });
        const beat = await start(at('2030-10-26T00:00:00Z'), hourlyBench);
        await beat.runUntil(at('2030-10-29T00:00:00Z'));
        assert.deepEqual(beat.broker.slotsOf('monday noon'), ['2030-10-28T11:00:00.000Z']);
      });

      test('on the day clocks spring forward a daily task runs at its new local time (https://github.com/celery/django-celery-beat/issues/134, https://github.com/celery/celery/issues/9653)', async () => {
        // America/New_York springs forward on 2030-03-10: 16:04 EDT is 20:04Z (21:04Z the day before).
        await task({
          name: 'daily 16:04',
          schedule: { crontab: { minute: '4', hour: '16', timezone: 'America/New_York' } },
          lastRunAt: new Date(at('2030-03-08T21:04:00Z')),
        });
        const beat = await start(at('2030-03-09T12:00:00Z'), hourlyBench);
        await beat.runUntil(at('2030-03-11T12:00:00Z'));
        assert.deepEqual(beat.broker.slotsOf('daily 16:04'), ['2030-03-09T21:04:00.000Z', '2030-03-10T20:04:00.000Z']);
      });
    });
  });
}
