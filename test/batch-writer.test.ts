// The background batch writer (src/batch-writer.ts) alone: a fake writer that fails when
// told and fake timers that fire only when the test moves time. No services, no sleeping.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { type BatchFailure, BatchWriter, type BatchTimers } from '../src/batch-writer.js';

/** Timers that fire only on advance(). */
class FakeTimers implements BatchTimers {
  private now = 0;
  private readonly timers = new Set<{ dueAt: number; fire: () => void }>();

  setTimer(ms: number, fire: () => void): () => void {
    const timer = { dueAt: this.now + ms, fire };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  get armed(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    this.now += ms;
    for (const timer of [...this.timers].sort((a, b) => a.dueAt - b.dueAt)) {
      if (timer.dueAt > this.now) continue;
      this.timers.delete(timer);
      timer.fire();
    }
  }
}

/** A write that records each batch, and can be held open or made to fail. */
class FakeWrite {
  readonly batches: number[][] = [];
  failNext = 0;
  private held: (() => void) | undefined;
  private hold = false;

  readonly write = async (batch: number[]): Promise<void> => {
    this.batches.push([...batch]);
    if (this.hold) await new Promise<void>((resolve) => (this.held = resolve));
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('database away');
    }
  };

  /** The next write waits until release(). */
  holdNext(): void {
    this.hold = true;
  }

  release(): void {
    this.hold = false;
    this.held?.();
  }
}

const turns = async (n = 10) => {
  for (let i = 0; i < n; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

describe('BatchWriter', () => {
  test('without a delay, writes at once; what comes during a write goes in the next batch', async () => {
    const fake = new FakeWrite();
    const writer = new BatchWriter<number>({ write: fake.write, maxPending: 100 });
    fake.holdNext();
    writer.add([1, 2]);
    await turns();
    writer.add([3]);
    writer.add([4]);
    assert.equal(writer.size, 2);
    fake.release();
    await writer.drain();
    assert.deepEqual(fake.batches, [
      [1, 2],
      [3, 4],
    ]);
    assert.equal(writer.size, 0);
  });

  test('with flushEveryMs, gathers until the delay or maxBatch; batches are at most maxBatch', async () => {
    const fake = new FakeWrite();
    const timers = new FakeTimers();
    const writer = new BatchWriter<number>({
      write: fake.write,
      maxPending: 100,
      maxBatch: 3,
      flushEveryMs: 50,
      timers,
    });
    writer.add([1]);
    writer.add([2]);
    await turns();
    assert.deepEqual(fake.batches, [], 'nothing before the delay');
    timers.advance(49);
    await turns();
    assert.deepEqual(fake.batches, []);
    timers.advance(1);
    await writer.drain();
    assert.deepEqual(fake.batches, [[1, 2]]);
    writer.add([3, 4, 5, 6, 7]); // past maxBatch: written now, in batches of 3
    await writer.drain();
    assert.deepEqual(fake.batches, [
      [1, 2],
      [3, 4, 5],
      [6, 7],
    ]);
    assert.equal(timers.armed, 0);
  });

  test('a failed batch is kept in order and written first; flush() during a write tries once more', async () => {
    const fake = new FakeWrite();
    const failures: BatchFailure<number>[] = [];
    const writer = new BatchWriter<number>({
      write: fake.write,
      maxPending: 100,
      onFailed: (failure) => failures.push(failure),
    });
    fake.failNext = 2;
    writer.add([1, 2]);
    await writer.drain();
    assert.equal(writer.size, 2, 'kept; no timer, so not tried again by itself');
    fake.holdNext();
    writer.add([3]); // tries [1, 2, 3] again and fails again
    await turns();
    const flushed = writer.flush(); // asked during that write: one more round after it
    writer.add([4]);
    fake.release();
    await flushed;
    assert.deepEqual(fake.batches, [
      [1, 2],
      [1, 2, 3],
      [1, 2, 3, 4],
    ]);
    assert.deepEqual(
      failures.map((f) => [f.batch.length, f.pending, f.failures]),
      [
        [2, 2, 1],
        [3, 4, 2],
      ],
    );
    assert.equal(writer.size, 0);
  });

  test('retryAfterMs: a failed write is tried again when the timer fires', async () => {
    const fake = new FakeWrite();
    const timers = new FakeTimers();
    const writer = new BatchWriter<number>({ write: fake.write, maxPending: 100, retryAfterMs: 1000, timers });
    fake.failNext = 1;
    writer.add([1]);
    await writer.drain();
    assert.equal(timers.armed, 1);
    timers.advance(999);
    await turns();
    assert.equal(fake.batches.length, 1);
    timers.advance(1);
    await writer.drain();
    assert.deepEqual(fake.batches, [[1], [1]]);
    assert.equal(writer.size, 0);
  });

  test('past maxPending the oldest are dropped, on add and after a failed write', async () => {
    const fake = new FakeWrite();
    const dropped: number[] = [];
    const writer = new BatchWriter<number>({
      write: fake.write,
      maxPending: 3,
      onDropped: (count) => dropped.push(count),
    });
    fake.holdNext();
    fake.failNext = 1;
    writer.add([1, 2]); // in flight, will fail
    await turns();
    writer.add([3, 4, 5, 6]); // the queue holds 3: 3 goes
    assert.equal(writer.size, 3);
    fake.release();
    await writer.drain(); // [1, 2] back in front of [4, 5, 6]: 1 and 2 go
    assert.deepEqual(dropped, [1, 2]);
    assert.equal(writer.dropped, 3);
    await writer.flush();
    assert.deepEqual(fake.batches, [
      [1, 2],
      [4, 5, 6],
    ]);
  });

  test('a very large add, to an empty queue or behind queued items, is taken whole', async () => {
    const fake = new FakeWrite();
    const writer = new BatchWriter<number>({ write: fake.write, maxPending: 2_000_000 });
    const many = Array.from({ length: 1_000_000 }, (_, i) => i);
    fake.holdNext();
    writer.add([-1]); // in flight
    await turns();
    writer.add(many); // to the empty queue
    writer.add(many); // behind it: appended in chunks, not one spread of a million arguments
    assert.equal(writer.size, 2_000_000);
    fake.release();
    await writer.drain();
    assert.deepEqual(
      fake.batches.map((b) => b.length),
      [1, 2_000_000],
    );
  });

  test('beforeWrite is awaited before each round of writes, and its failure ignored', async () => {
    const fake = new FakeWrite();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let calls = 0;
    const writer = new BatchWriter<number>({
      write: fake.write,
      maxPending: 100,
      beforeWrite: () => ((calls += 1) === 1 ? gate : Promise.reject(new Error('ignored'))),
    });
    writer.add([1]);
    await turns();
    assert.deepEqual(fake.batches, [], 'waits for beforeWrite');
    open();
    await writer.drain();
    writer.add([2]);
    await writer.drain();
    assert.deepEqual(fake.batches, [[1], [2]]);
    assert.equal(calls, 2);
  });
});
