// The records of runs sent (last_run_at, total_run_count) are written in the background
// (src/beat/recorder.ts): sending what falls due next never waits for the database's
// write of earlier runs, yet every guarantee of the write stays: recorded only after the
// broker accepted, at most one write in flight, a failed write kept and reported on the
// next step, stop() waits for it. On a beat in this process with the fake clock
// (test/beat/in-process.ts), on each test dialect.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { afterEach, describe, test } from 'node:test';

import type { BeatStore, RecordOutcome, RunRecord } from '../../src/db/store.js';
import { testDialects } from '../support/dialects.js';
import { BenchPerTest, type RunningBeat, settleTurns, until } from './in-process.js';

const S = 1000;
/** A Monday, on the hour: 2030-01-07T10:00:00Z. */
const T0 = Date.parse('2030-01-07T10:00:00.000Z');

/** A store whose recordRuns, once armed, waits for the test (hold) or fails (fail); it counts writes in flight. */
class Writes {
  mode: 'pass' | 'hold' | 'fail' = 'pass';
  inFlight = 0;
  maxInFlight = 0;
  /** The task ids of each write, in order. */
  readonly batches: number[][] = [];
  private entered: (() => void) | undefined;
  private release: (() => void) | undefined;

  wrap(store: BeatStore): BeatStore {
    return new Proxy(store, {
      get: (target, property, receiver) => {
        if (property === 'recordRuns') {
          return async (...args: Parameters<BeatStore['recordRuns']>): Promise<RecordOutcome> => {
            const [records] = args;
            this.batches.push(records.map((record: RunRecord) => record.id));
            this.inFlight += 1;
            this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
            try {
              const mode = this.mode;
              this.mode = 'pass';
              if (mode === 'fail') throw new Error('records write refused (test)');
              if (mode === 'hold') {
                const released = new Promise<void>((resolve) => (this.release = resolve));
                this.entered?.();
                await released;
              }
              return await target.recordRuns(...args);
            } finally {
              this.inFlight -= 1;
            }
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** Resolves when the held write has started. */
  writeEntered(): Promise<void> {
    return new Promise((resolve) => (this.entered = resolve));
  }

  releaseWrite(): void {
    assert.ok(this.release, 'a write is held');
    this.release();
  }
}

for (const dialect of testDialects) {
  describe(`records written in the background on ${dialect.name}`, () => {
    let writes: Writes;
    // A held write is let go first, so that the beat's stop (after each test) can finish.
    afterEach(() => {
      if (writes.mode === 'hold') writes.mode = 'pass';
    });
    const beats = new BenchPerTest(dialect, () => (writes = new Writes()));

    /** Tasks 'first' (due 5 s after T0) and 'second' (due 6 s after T0), every minute; a beat started at T0. */
    async function startTwoTasks(): Promise<{ beat: RunningBeat; first: number; second: number }> {
      const first = await beats.bench.insertTask({
        name: 'first',
        schedule: { interval: { every: 60, period: 'seconds' } },
        dateChanged: new Date(T0 - 55 * S),
      });
      const second = await beats.bench.insertTask({
        name: 'second',
        schedule: { interval: { every: 60, period: 'seconds' } },
        dateChanged: new Date(T0 - 54 * S),
      });
      return { beat: await beats.start(T0, {}, (store) => writes.wrap(store)), first, second };
    }

    test('a slow records write does not delay the send of a run due meanwhile; one write at a time', async () => {
      const { beat, first, second } = await startTwoTasks();
      writes.mode = 'hold';
      const entered = writes.writeEntered();
      beat.clock.advance(5 * S); // 'first' falls due: sent, then its record's write is held
      await entered;
      assert.deepEqual(beat.broker.sentAtOf('first'), [new Date(T0 + 5 * S).toISOString()]);

      await until(() => beat.clock.nextTimerAt() === T0 + 6 * S, "the beat sleeps until 'second' is due");
      beat.clock.advance(1 * S); // 'second' falls due while the write of 'first' is held
      await until(() => beat.broker.sentAtOf('second').length > 0, "'second' is sent");
      assert.deepEqual(beat.broker.sentAtOf('second'), [new Date(T0 + 6 * S).toISOString()], 'sent on time');
      assert.equal((await beats.bench.row(first)).total_run_count, 0, 'the held write has not answered yet');
      assert.equal(writes.inFlight, 1, "the second run's record waits for the write in flight");

      await beat.waitIdle(() => writes.releaseWrite());
      assert.equal(writes.maxInFlight, 1, 'never two records writes at once');
      assert.deepEqual(writes.batches.slice(-2), [[first], [second]], 'the second record in the next write');
      assert.equal((await beats.bench.row(first)).total_run_count, 1);
      assert.equal((await beats.bench.row(second)).total_run_count, 1);
    });

    test('a failed records write is reported on the next step and its records written again', async () => {
      const { beat, first, second } = await startTwoTasks();
      writes.mode = 'fail';
      const failure = once(beat.beat, 'failure');
      beat.clock.advance(5 * S); // 'first' is sent; the write of its record fails
      const [error] = (await failure) as [Error];
      assert.match(error.message, /records write refused/);
      assert.deepEqual(beat.broker.slotsOf('first'), [new Date(T0 + 5 * S).toISOString()]);
      assert.equal((await beats.bench.row(first)).total_run_count, 0, 'not recorded yet');

      // The loop retries after its backoff (under 250 ms): the kept record is written before anything new is sent.
      await beat.runUntil(T0 + 7 * S);
      await settleTurns();
      assert.equal((await beats.bench.row(first)).total_run_count, 1, 'the kept record was written');
      const firstRetry = writes.batches.findIndex((ids, index) => index > 0 && ids.includes(first));
      const secondWrite = writes.batches.findIndex((ids) => ids.includes(second));
      assert.ok(
        firstRetry !== -1 && (secondWrite === -1 || firstRetry <= secondWrite),
        'retried before or with the next',
      );
      assert.equal((await beats.bench.row(second)).total_run_count, 1);
      assert.equal(beat.broker.slotsOf('first').length, 1, 'sent once');
    });

    test('stop() waits for the records write in flight', async () => {
      const { beat, first } = await startTwoTasks();
      writes.mode = 'hold';
      const entered = writes.writeEntered();
      beat.clock.advance(5 * S);
      await entered;
      let stopped = false;
      const stopping = beats.stop().then(() => (stopped = true));
      await settleTurns();
      assert.equal(stopped, false, 'stop waits for the write');
      writes.releaseWrite();
      await stopping;
      assert.equal((await beats.bench.row(first)).total_run_count, 1, 'recorded before the beat stopped');
    });
  });
}
