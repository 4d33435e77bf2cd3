// The run rules of the README ("Around the schedule") and docs/DESIGN.md §5, tested on
// a beat in this process: a fake clock, an in-memory broker and a real database (fresh
// for this file, dropped after) — the same rules on PostgreSQL and on MariaDB
// (test/support/dialects.ts; DBBEAT_TEST_DIALECT picks one). Time moves only when a test moves it,
// and each step is awaited through the beat's `idle` event: every test takes
// milliseconds of real time, whatever span of fake time it covers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { PyJsonText } from '../../src/broker/pyjson.js';
import type { TaskMessage } from '../../src/broker/types.js';
import { runDbbeat } from '../support/cli.js';
import { testDialects } from '../support/dialects.js';
import type { TaskRowInput } from '../support/rows.js';
import { type BeatBench, BenchPerTest, type RunningBeat } from './in-process.js';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
/** A Monday, on the hour: 2030-01-07T10:00:00Z. */
const T0 = Date.parse('2030-01-07T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

for (const dialect of testDialects) {
  describe(`run rules on ${dialect.name}`, () => {
    const beats = new BenchPerTest(dialect);

    async function task(input: Omit<TaskRowInput, 'dateChanged'> & { dateChanged?: Date }): Promise<number> {
      return beats.bench.insertTask({ dateChanged: new Date(T0 - HOUR), ...input });
    }

    async function start(now = T0, options: Parameters<BeatBench['start']>[1] = {}): Promise<RunningBeat> {
      return beats.start(now, options);
    }

    async function row(id: number): Promise<{ last_run_at: Date | null; total_run_count: number; enabled: boolean }> {
      return beats.bench.row(id);
    }

    /** The args a worker would receive, as a JS value. */
    function argsOf(message: TaskMessage): unknown {
      const args: unknown = message.args;
      return args instanceof PyJsonText ? JSON.parse(args.text) : args;
    }

    describe('first runs', () => {
      test('an interval task never run runs one interval after date_changed, then every interval', async () => {
        await task({
          name: 'fresh',
          schedule: { interval: { every: 60, period: 'seconds' } },
          dateChanged: new Date(T0 - 30 * S),
        });
        const beat = await start();
        assert.deepEqual(beat.broker.slotsOf('fresh'), []);
        await beat.runUntil(T0 + 30 * S);
        await beat.runUntil(T0 + 90 * S);
        assert.deepEqual(beat.broker.slotsOf('fresh'), [iso(T0 + 30 * S), iso(T0 + 90 * S)]);
        assert.deepEqual(beat.broker.sentAtOf('fresh'), [iso(T0 + 30 * S), iso(T0 + 90 * S)], 'each on time');
      });

      test('a crontab task never run runs at its first match after date_changed', async () => {
        await task({ name: 'cron', schedule: { crontab: { minute: '*/15' } }, dateChanged: new Date(T0 - MIN) });
        const beat = await start();
        assert.deepEqual(beat.broker.slotsOf('cron'), [iso(T0)]);
        await beat.runUntil(T0 + 15 * MIN);
        assert.deepEqual(beat.broker.slotsOf('cron'), [iso(T0), iso(T0 + 15 * MIN)]);
      });
    });

    describe('start_time', () => {
      test('an interval task never run runs at start_time, then every interval from it', async () => {
        await task({
          name: 'starts',
          schedule: { interval: { every: 60, period: 'seconds' } },
          startTime: new Date(T0 + 10 * S),
          dateChanged: new Date(T0 - 5 * S),
        });
        const beat = await start();
        await beat.runUntil(T0 + 10 * S - 1);
        assert.deepEqual(beat.broker.slotsOf('starts'), [], 'nothing before start_time');
        await beat.runUntil(T0 + 70 * S);
        assert.deepEqual(beat.broker.slotsOf('starts'), [iso(T0 + 10 * S), iso(T0 + 70 * S)]);
      });

      test('an interval task runs at the later of start_time and last run + every', async () => {
        const start1 = T0 + 20 * S;
        await task({
          name: 'start wins',
          schedule: { interval: { every: 10, period: 'seconds' } },
          startTime: new Date(start1),
          lastRunAt: new Date(start1 - 15 * S),
        });
        await task({
          name: 'interval wins',
          schedule: { interval: { every: 60, period: 'seconds' } },
          startTime: new Date(T0 - HOUR),
          lastRunAt: new Date(T0 - 30 * S),
        });
        const beat = await start();
        await beat.runUntil(T0 + 30 * S);
        assert.deepEqual(beat.broker.slotsOf('start wins'), [iso(start1), iso(start1 + 10 * S)]);
        assert.deepEqual(beat.broker.slotsOf('interval wins'), [iso(T0 + 30 * S)]);
      });

      test('a crontab task runs at its first slot at or after start_time', async () => {
        await task({
          name: 'hourly later',
          schedule: { crontab: { minute: '0' } },
          startTime: new Date(T0 + 90 * MIN),
          lastRunAt: new Date(T0),
        });
        const beat = await start();
        await beat.runUntil(T0 + 2 * HOUR);
        assert.deepEqual(beat.broker.slotsOf('hourly later'), [iso(T0 + 2 * HOUR)], 'not at 11:00, before start_time');
      });
    });

    describe('missed runs: one catch-up run after downtime, each slot inside the window', () => {
      test('an hourly task last run 2 h ago, beat started on the hour: one run, then the next hour', async () => {
        const id = await task({
          name: 'hourly',
          schedule: { crontab: { minute: '0' } },
          lastRunAt: new Date(T0 - 2 * HOUR),
        });
        const beat = await start();
        assert.equal(beat.broker.slotsOf('hourly').length, 1, 'one message, not the stale slot and the current one');
        assert.equal((await row(id)).last_run_at?.toISOString(), iso(T0), 'the schedule goes on from the catch-up run');
        await beat.runUntil(T0 + HOUR - 1);
        assert.equal(beat.broker.slotsOf('hourly').length, 1);
        await beat.runUntil(T0 + HOUR);
        assert.deepEqual(beat.broker.slotsOf('hourly').slice(1), [iso(T0 + HOUR)]);
      });

      test('every minute, last run 2 minutes ago: one run at start, the next a minute later', async () => {
        await task({ name: 'minutely', schedule: { crontab: {} }, lastRunAt: new Date(T0 - 2 * MIN) });
        const beat = await start(T0 + 200);
        assert.equal(beat.broker.slotsOf('minutely').length, 1);
        await beat.runUntil(T0 + MIN);
        assert.deepEqual(beat.broker.slotsOf('minutely').slice(1), [iso(T0 + MIN)]);
      });

      test('inside the window (a failover) each missed slot is sent once', async () => {
        await task({
          name: 'every 5 s',
          schedule: { interval: { every: 5, period: 'seconds' } },
          lastRunAt: new Date(T0 - 12 * S),
        });
        const beat = await start();
        assert.deepEqual(beat.broker.slotsOf('every 5 s'), [iso(T0 - 7 * S), iso(T0 - 2 * S)]);
        await beat.runUntil(T0 + 3 * S);
        assert.deepEqual(beat.broker.slotsOf('every 5 s').slice(2), [iso(T0 + 3 * S)]);
      });

      // Every 60 s, catch-up window 15 s; the beat starts at T0.
      const edges = [
        {
          missedBy: 14 * S,
          runs: [iso(T0 - 14 * S), iso(T0 + 46 * S)],
          note: 'window - 1 s: the slot is sent, the schedule keeps its phase',
        },
        {
          missedBy: 16 * S,
          runs: [iso(T0 - 16 * S), iso(T0 + 60 * S)],
          note: 'window + 1 s: one catch-up run, the schedule goes on from now',
        },
        { missedBy: 60 * S, runs: [iso(T0 - 60 * S), iso(T0 + 60 * S)], note: 'one period missed: one run' },
        { missedBy: 120 * S, runs: [iso(T0 - 120 * S), iso(T0 + 60 * S)], note: 'two periods missed: still one run' },
      ];
      for (const { missedBy, runs, note } of edges) {
        test(`a slot missed by ${missedBy / S} s: ${note}`, async () => {
          await task({
            name: 'edge',
            schedule: { interval: { every: 60, period: 'seconds' } },
            lastRunAt: new Date(T0 - missedBy - 60 * S),
          });
          const beat = await start();
          assert.deepEqual(beat.broker.slotsOf('edge'), runs.slice(0, 1));
          await beat.runUntil(Date.parse(runs[1]!) - 1);
          assert.equal(beat.broker.slotsOf('edge').length, 1, 'no second run moments later');
          await beat.runUntil(Date.parse(runs[1]!));
          assert.deepEqual(beat.broker.slotsOf('edge'), runs);
        });
      }

      test('a run later than the starting deadline is skipped and recorded, not sent', async () => {
        const late = await task({
          name: 'late',
          schedule: { interval: { every: 60, period: 'seconds' } },
          lastRunAt: new Date(T0 - 90 * S),
        });
        await task({
          name: 'in time',
          schedule: { interval: { every: 60, period: 'seconds' } },
          lastRunAt: new Date(T0 - 65 * S),
        });
        const beat = await start(T0, { startingDeadline: 10 });
        assert.deepEqual(beat.broker.slotsOf('late'), []);
        assert.deepEqual(beat.broker.slotsOf('in time'), [iso(T0 - 5 * S)], 'late by 5 s: within the deadline');
        const recorded = await row(late);
        assert.equal(recorded.last_run_at?.toISOString(), iso(T0));
        assert.equal(recorded.total_run_count, 0, 'a skipped run is not counted');
        await beat.runUntil(T0 + 60 * S);
        assert.deepEqual(beat.broker.slotsOf('late'), [iso(T0 + 60 * S)]);
      });
    });

    describe('one-off and expires', () => {
      test('a clocked task runs once at its time and is disabled', async () => {
        const id = await task({
          name: 'clocked',
          schedule: { clocked: { clocked_time: new Date(T0 + 10 * S) } },
          oneOff: true,
        });
        const beat = await start();
        await beat.runUntil(T0 + 10 * S);
        assert.deepEqual(beat.broker.slotsOf('clocked'), [iso(T0 + 10 * S)]);
        assert.deepEqual(await row(id), { last_run_at: new Date(T0 + 10 * S), total_run_count: 1, enabled: false });
        await beat.runUntil(T0 + HOUR);
        assert.equal(beat.broker.slotsOf('clocked').length, 1);
      });

      test('a clocked task saved after its time runs at once', async () => {
        await task({
          name: 'overdue',
          schedule: { clocked: { clocked_time: new Date(T0 - HOUR) } },
          oneOff: true,
          dateChanged: new Date(T0 - MIN),
        });
        const beat = await start();
        assert.deepEqual(beat.broker.slotsOf('overdue'), [iso(T0 - HOUR)]);
        // `dbbeat next` previews the same run (a task saved at T0 - 1 min, never run).
        const preview = await runDbbeat(['next', '--clocked', iso(T0 - HOUR), '--after', iso(T0 - MIN)]);
        assert.equal(preview.code, 0, preview.stderr);
        assert.match(
          preview.stdout,
          new RegExp(
            `\\n {3}1 .* ${iso(T0 - HOUR).replace('.000Z', 'Z')} {2}its time has passed.*\\n {2}\\(no more runs\\)\\n$`,
          ),
        );
      });

      test('a one-off interval task runs once and is disabled', async () => {
        const id = await task({
          name: 'once',
          schedule: { interval: { every: 10, period: 'seconds' } },
          oneOff: true,
          dateChanged: new Date(T0 - 5 * S),
        });
        const beat = await start();
        await beat.runUntil(T0 + MIN);
        assert.deepEqual(beat.broker.slotsOf('once'), [iso(T0 + 5 * S)]);
        assert.equal((await row(id)).enabled, false);
      });

      test('a task whose expires passes is disabled and sent no more; expires travels in the message', async () => {
        const id = await task({
          name: 'expiring',
          schedule: { interval: { every: 10, period: 'seconds' } },
          dateChanged: new Date(T0),
          expires: new Date(T0 + 25 * S),
        });
        const beat = await start();
        await beat.runUntil(T0 + MIN);
        assert.deepEqual(beat.broker.slotsOf('expiring'), [iso(T0 + 10 * S), iso(T0 + 20 * S)]);
        assert.equal(beat.broker.received[0]!.message.expires?.toISOString(), iso(T0 + 25 * S));
        assert.equal((await row(id)).enabled, false);
      });

      test('a task already expired at load is disabled without a run', async () => {
        const id = await task({
          name: 'expired',
          schedule: { interval: { every: 10, period: 'seconds' } },
          expires: new Date(T0 - S),
        });
        const beat = await start();
        assert.deepEqual(beat.broker.slotsOf('expired'), []);
        assert.equal((await row(id)).enabled, false);
      });

      test('expire_seconds: the message expires that long after it is sent', async () => {
        await task({
          name: 'ttl',
          schedule: { interval: { every: 10, period: 'seconds' } },
          dateChanged: new Date(T0),
          expireSeconds: 30,
        });
        const beat = await start();
        await beat.runUntil(T0 + 10 * S);
        assert.equal(beat.broker.received[0]!.message.expires?.toISOString(), iso(T0 + 40 * S));
      });
    });

    describe('edits between the load and the send', () => {
      // max-interval 1 h: the beat does not poll the change log in between, so what these
      // tests see is the fresh read of each due row just before it is sent.
      const noPolling = { maxInterval: 3600 };

      test('new args are sent', async () => {
        const id = await task({
          name: 'args',
          schedule: { interval: { every: 10, period: 'seconds' } },
          dateChanged: new Date(T0),
          args: '[1]',
        });
        const beat = await start(T0, noPolling);
        await beats.bench.sql(`UPDATE django_celery_beat_periodictask SET args = '[2]' WHERE id = $1`, [id]);
        await beat.runUntil(T0 + 10 * S);
        assert.deepEqual(
          beat.broker.received.map((r) => argsOf(r.message)),
          [[2]],
        );
      });

      test('a task disabled or deleted meanwhile is not sent', async () => {
        const disabled = await task({
          name: 'disabled',
          schedule: { interval: { every: 10, period: 'seconds' } },
          dateChanged: new Date(T0),
        });
        const deleted = await task({
          name: 'deleted',
          schedule: { interval: { every: 10, period: 'seconds' } },
          dateChanged: new Date(T0),
        });
        const beat = await start(T0, noPolling);
        await beats.bench.sql('UPDATE django_celery_beat_periodictask SET enabled = false WHERE id = $1', [disabled]);
        await beats.bench.sql('DELETE FROM django_celery_beat_periodictask WHERE id = $1', [deleted]);
        await beat.runUntil(T0 + MIN);
        assert.deepEqual(beat.broker.received, []);
      });

      test('an edited schedule is followed from the moment the beat sees it, with no run for the old slot', async () => {
        const id = await task({
          name: 'edited',
          schedule: { interval: { every: 10, period: 'seconds' } },
          dateChanged: new Date(T0),
        });
        const beat = await start(T0, noPolling);
        await beats.bench.sql(
          `UPDATE django_celery_beat_intervalschedule SET every = 30
       WHERE id = (SELECT interval_id FROM django_celery_beat_periodictask WHERE id = $1)`,
          [id],
        );
        await beat.runUntil(T0 + 40 * S - 1);
        assert.deepEqual(beat.broker.slotsOf('edited'), [], 'not at the old slot T0 + 10 s');
        await beat.runUntil(T0 + 40 * S);
        assert.deepEqual(beat.broker.slotsOf('edited'), [iso(T0 + 40 * S)]);
      });

      test('an edit noticed through the change log (poll) moves the task too', async () => {
        const id = await task({
          name: 'polled',
          schedule: { interval: { every: 60, period: 'seconds' } },
          dateChanged: new Date(T0),
        });
        const beat = await start(T0, { maxInterval: 5 });
        await beats.bench.sql(`UPDATE django_celery_beat_periodictask SET start_time = $1 WHERE id = $2`, [
          beats.bench.time(new Date(T0 + 10 * MIN)),
          id,
        ]);
        await beat.runUntil(T0 + 10 * MIN - 1);
        assert.deepEqual(beat.broker.slotsOf('polled'), [], 'not at T0 + 60 s: start_time moved it');
        await beat.runUntil(T0 + 10 * MIN);
        assert.deepEqual(beat.broker.slotsOf('polled'), [iso(T0 + 10 * MIN)]);
      });
    });

    describe('clock jumps', () => {
      test('forward by an hour: one catch-up run, then on schedule from it', async () => {
        await task({
          name: 'minutely',
          schedule: { interval: { every: 60, period: 'seconds' } },
          lastRunAt: new Date(T0 - MIN),
        });
        const beat = await start();
        assert.deepEqual(beat.broker.slotsOf('minutely'), [iso(T0)]);
        beat.clock.jump(HOUR);
        const woke = beat.clock.nextTimerAt()!; // the beat notices at its next wake-up (a poll: 5 s)
        await beat.runUntil(woke);
        assert.deepEqual(
          beat.broker.slotsOf('minutely'),
          [iso(T0), iso(T0 + MIN)],
          'one run for the hour missed, not sixty',
        );
        assert.deepEqual(beat.broker.sentAtOf('minutely').slice(1), [iso(woke)]);
        await beat.runUntil(woke + MIN - 1);
        assert.equal(beat.broker.slotsOf('minutely').length, 2);
        await beat.runUntil(woke + MIN);
        assert.equal(beat.broker.slotsOf('minutely').length, 3);
      });

      test('back by ten minutes: nothing is sent twice, and the beat keeps polling', async () => {
        await task({
          name: 'minutely',
          schedule: { interval: { every: 60, period: 'seconds' } },
          lastRunAt: new Date(T0 - MIN),
        });
        const beat = await start(T0, { maxInterval: 20 });
        await beat.runUntil(T0 + MIN);
        assert.deepEqual(beat.broker.slotsOf('minutely'), [iso(T0), iso(T0 + MIN)]);
        beat.clock.jump(-10 * MIN);
        // A task added while the wall clock is behind is noticed at the next poll: polls and
        // lease renewals follow elapsed time, not the wall clock.
        const behind = beat.clock.now();
        await task({
          name: 'added',
          schedule: { interval: { every: 10, period: 'seconds' } },
          dateChanged: new Date(behind),
        });
        await beat.runUntil(behind + 20 * S);
        assert.deepEqual(beat.broker.slotsOf('added').slice(0, 1), [iso(behind + 10 * S)]);
        await beat.runUntil(T0 + 2 * MIN - 1);
        assert.deepEqual(
          beat.broker.slotsOf('minutely'),
          [iso(T0), iso(T0 + MIN)],
          'no slot repeated while the clock catches up',
        );
        await beat.runUntil(T0 + 2 * MIN);
        assert.deepEqual(beat.broker.slotsOf('minutely'), [iso(T0), iso(T0 + MIN), iso(T0 + 2 * MIN)]);
        const ids = beat.broker.received.map((r) => r.message.id);
        assert.equal(new Set(ids).size, ids.length);
      });
    });
  });
}
