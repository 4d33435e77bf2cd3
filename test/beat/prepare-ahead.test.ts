// Preparing ahead (PrepareAhead, driven by the loop's quiet spells) works in slices of a few
// milliseconds with a turn of the event loop between them, so that a socket or a timer
// (a change notification, a reply) is not held back until every run is prepared. On a
// beat in this process with the fake clock (test/beat/in-process.ts); the broker's prepare
// hook stands in for the encoding work and takes 1 ms of real time per run.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { TaskMessage } from '../../src/broker/types.js';
import { postgresDialect } from '../support/dialects.js';
import { BenchPerTest } from './in-process.js';

/** A Monday, on the hour: 2030-01-07T10:00:00Z. */
const T0 = Date.parse('2030-01-07T10:00:00.000Z');
const TASKS = 60;

/** Busy for `ms` of real time. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('preparing ahead on postgres', () => {
  const beats = new BenchPerTest(postgresDialect);

  test('the runs are prepared in slices, with a turn of the event loop between slices', async () => {
    for (let index = 0; index < TASKS; index++) {
      await beats.bench.insertTask({
        name: `ahead-${index}`,
        schedule: { interval: { every: 3600, period: 'seconds' } },
        lastRunAt: new Date(T0 + 30_000 - 3_600_000), // due 30 s after T0: not prepared at start
        dateChanged: new Date(T0 - 3_600_000),
      });
    }
    // Polling every 5 s wakes the loop 10 s before the runs, when their preparation begins.
    const beat = await beats.start(T0, { maxInterval: 5 });
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const turnOfEachPrepare: number[] = [];
    beat.broker.prepare = (_message: TaskMessage) => {
      turnOfEachPrepare.push(turns);
      spin(1);
    };
    try {
      await beat.runUntil(T0 + 25_000);
    } finally {
      ticking = false;
    }

    assert.equal(turnOfEachPrepare.length, TASKS, 'each run prepared once');
    const perTurn = new Map<number, number>();
    for (const turn of turnOfEachPrepare) perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
    // A slice ends after 5 ms of work: 1 ms per run, so at most 6 runs between two turns.
    const most = Math.max(...perTurn.values());
    assert.ok(most <= 6, `${most} runs prepared without a turn of the event loop (${perTurn.size} turns in all)`);
    await beat.runUntil(T0 + 31_000);
    assert.equal(beat.broker.received.length, TASKS, 'and each run is sent at its time');
  });
});
