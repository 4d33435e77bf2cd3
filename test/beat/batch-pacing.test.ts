// Batch pacing (SendRound.nextBatchAt): once batches stream, within two windows of each
// other, the next one is popped no sooner than BATCH_WINDOW_MS after the last, so a steady
// load goes out in a few large batches rather than hundreds of tiny ones; a full batch is
// not held back, and neither is a light load nor a first burst after a quiet period. On a
// beat in this process with the fake clock (test/beat/in-process.ts): the times below are
// exact, and the database only keeps the tasks (the pacing is the same on either dialect).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { BATCH_WINDOW_MS } from '../../src/beat/send-round.js';
import type { TaskMessage } from '../../src/broker/types.js';
import { postgresDialect } from '../support/dialects.js';
import { BenchPerTest, type RunningBeat } from './in-process.js';

/** A Monday, on the hour: 2030-01-07T10:00:00Z. */
const T0 = Date.parse('2030-01-07T10:00:00.000Z');

/** One publish the beat made: when (fake ms after T0) and how many runs. */
interface Batch {
  at: number;
  size: number;
}

/** Every publish of the beat's broker from now on, in order. */
function logBatches(beat: RunningBeat): Batch[] {
  const batches: Batch[] = [];
  const publish = beat.broker.publish.bind(beat.broker);
  beat.broker.publish = (messages: readonly TaskMessage[]) => {
    batches.push({ at: beat.clock.now() - T0, size: messages.length });
    return publish(messages);
  };
  return batches;
}

/** Each run received: its task, its slot and when it was sent, in ms after T0. */
function runs(beat: RunningBeat): { name: string; slot: number; at: number }[] {
  return beat.broker.received.map(({ message, at }) => ({
    name: message.periodicTaskName ?? '',
    slot: (message.scheduledAt?.getTime() ?? NaN) - T0,
    at: at - T0,
  }));
}

describe('batch pacing on postgres', () => {
  const beats = new BenchPerTest(postgresDialect);

  /**
   * `count` tasks every `everyMs`, the first due `firstDueMs` after T0 and each of the
   * others 1 ms after the one before: with count = everyMs, a run falls due every millisecond.
   */
  async function insertStream(count: number, everyMs: number, firstDueMs: number): Promise<void> {
    for (let index = 0; index < count; index++) {
      await beats.bench.insertTask({
        name: `stream-${index}`,
        schedule: { interval: { every: everyMs * 1000, period: 'microseconds' } },
        lastRunAt: new Date(T0 + firstDueMs + index - everyMs),
        dateChanged: new Date(T0 - 3_600_000),
      });
    }
  }

  /** Every slot of the stream due up to `untilMs` after T0. */
  function streamSlots(count: number, everyMs: number, firstDueMs: number, untilMs: number): string[] {
    const slots: string[] = [];
    for (let index = 0; index < count; index++)
      for (let slot = firstDueMs + index; slot <= untilMs; slot += everyMs) slots.push(`stream-${index}@${slot}`);
    return slots.sort();
  }

  test('a run due every millisecond goes out in batches a window apart, none lost, each within a window of its time', async () => {
    await insertStream(100, 100, 100);
    const beat = await beats.start(T0);
    const batches = logBatches(beat);
    const sleeps: { at: number; until: number }[] = [];
    beat.beat.on('idle', ({ wakeAt }) => sleeps.push({ at: beat.clock.now() - T0, until: wakeAt - T0 }));
    await beat.runUntil(T0 + 1100);

    const sent = runs(beat);
    const last = batches.at(-1)!.at;
    assert.deepEqual(
      sent.map(({ name, slot }) => `${name}@${slot}`).sort(),
      streamSlots(100, 100, 100, last),
      'every run due up to the last batch, each once',
    );
    for (const { name, slot, at } of sent)
      assert.ok(at >= slot && at - slot <= BATCH_WINDOW_MS, `${name}@${slot} sent at ${at}: within a window`);
    // The first two batches come 1 ms apart (nothing streamed before them); then one per window.
    assert.deepEqual(
      batches.slice(0, 2).map(({ at }) => at),
      [100, 101],
    );
    for (let index = 2; index < batches.length; index++)
      assert.ok(
        batches[index]!.at - batches[index - 1]!.at >= BATCH_WINDOW_MS,
        `batch ${index} at ${batches[index]!.at} ms, the one before at ${batches[index - 1]!.at} ms`,
      );
    assert.ok(batches.length <= 2 + 1000 / BATCH_WINDOW_MS, `${batches.length} batches for 1000 runs`);
    // Between batches the loop sleeps through the window: it does not wake for each run falling due.
    for (const { at, until } of sleeps.filter(({ at }) => at > 101 && at < last)) {
      const lastBatch = batches.filter((batch) => batch.at <= at).at(-1)!;
      assert.ok(until >= lastBatch.at + BATCH_WINDOW_MS, `idle at ${at} ms until ${until} ms`);
    }
    assert.ok(
      batches.slice(2).every(({ size }) => size === BATCH_WINDOW_MS),
      'a window of runs per batch',
    );
  });

  test('a full batch is not held back: the next is popped at once, and the stream keeps up', async () => {
    const batchSize = 4; // less than a window's worth of runs (10)
    await insertStream(100, 100, 100);
    const beat = await beats.start(T0, { batchSize });
    const batches = logBatches(beat);
    await beat.runUntil(T0 + 600);

    const sent = runs(beat);
    const last = batches.at(-1)!.at;
    for (const { name, slot, at } of sent)
      assert.ok(at - slot <= BATCH_WINDOW_MS, `${name}@${slot} sent at ${at}: no backlog builds up`);
    assert.deepEqual(
      sent.map(({ name, slot }) => `${name}@${slot}`).sort(),
      streamSlots(100, 100, 100, last),
      'every run due up to the last batch, each once',
    );
    for (let index = 1; index < batches.length; index++) {
      const [before, batch] = [batches[index - 1]!, batches[index]!];
      if (before.size === batchSize) continue; // a full one: the next may come at once
      assert.ok(batch.at - before.at >= BATCH_WINDOW_MS || index === 1, `batch ${index} at ${batch.at} ms`);
    }
    const atOnce = batches.filter((batch, index) => index > 0 && batch.at === batches[index - 1]!.at).length;
    assert.ok(atOnce >= 50, `${atOnce} batches popped right after a full one`);
  });

  test('a light load is sent on time, and so are two runs close together after a quiet period', async () => {
    // Runs 200 ms apart (more than two windows): no batch streams, none is held back.
    for (const [name, dueMs] of [
      ['light-1', 100],
      ['light-2', 300],
      ['light-3', 500],
      // After 400 ms of quiet, three runs 3 ms apart: the first two go at their time (nothing
      // streamed before the second), the third is the stream's and waits for the window.
      ['close-1', 900],
      ['close-2', 903],
      ['close-3', 906],
    ] as const) {
      await beats.bench.insertTask({
        name,
        schedule: { interval: { every: 60, period: 'seconds' } },
        lastRunAt: new Date(T0 + dueMs - 60_000),
        dateChanged: new Date(T0 - 3_600_000),
      });
    }
    const beat = await beats.start(T0);
    await beat.runUntil(T0 + 1000);
    assert.deepEqual(
      runs(beat).map(({ name, at }) => [name, at]),
      [
        ['light-1', 100],
        ['light-2', 300],
        ['light-3', 500],
        ['close-1', 900],
        ['close-2', 903],
        ['close-3', 903 + BATCH_WINDOW_MS],
      ],
    );
  });
});
