// How the Recorder's background writes leave room for the lease renewal (src/beat/recorder.ts):
// each write takes at most 10,000 records, and none starts while a renewal is in flight.
// On PostgreSQL every records write holds the lease row's shared lock until it commits, and
// a renewal queues behind it; back-to-back writes of a large backlog kept a renewal waiting
// past the lease's end in a 1M burst. The store here is a fake whose writes end when the
// test says so: what is checked is the order of the requests, not the database.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import pino from 'pino';

import type { BeatStore, Fence, RecordOutcome, RunRecord } from '../../src/db/store.js';
import { Lease } from '../../src/beat/lease.js';
import { Recorder } from '../../src/beat/recorder.js';

interface Write {
  ids: number[];
  finish: () => void;
}

/** A store whose recordRuns calls wait until the test finishes them, one by one. */
function controlledStore(writes: Write[]): Pick<BeatStore, 'recordRuns' | 'disableTasks' | 'rowLockHolders'> {
  return {
    recordRuns(records: readonly RunRecord[], _fence: Fence): Promise<RecordOutcome> {
      const ids = records.map((record) => record.id);
      return new Promise((resolve) =>
        writes.push({ ids, finish: () => resolve({ held: true, written: ids, locked: [] }) }),
      );
    },
    disableTasks: () => Promise.resolve([]),
    rowLockHolders: () => Promise.resolve([]),
  };
}

function records(from: number, count: number): RunRecord[] {
  return Array.from({ length: count }, (_, i) => ({ id: from + i, lastRunAt: 1_000, runs: 1, disable: false }));
}

/** Lets every settled promise's handlers run. */
const turns = async (n = 10) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

function recorderWith(writes: Write[], beforeWrite: () => Promise<unknown> | undefined): Recorder {
  const lease = new Lease(
    { acquireLease: () => Promise.resolve(null), releaseLease: () => Promise.resolve() },
    { name: 'beat', holder: 'test', ttlSeconds: 5 },
  );
  const log = pino({ level: 'silent' });
  return new Recorder(
    controlledStore(writes),
    lease,
    log,
    () => undefined,
    undefined,
    () => undefined,
    beforeWrite,
  );
}

describe('the recorder’s background writes', () => {
  test('a backlog is written 10,000 records at a time, in the order sent', async () => {
    const writes: Write[] = [];
    const recorder = recorderWith(writes, () => undefined);
    recorder.add(records(1, 25_000), '7');
    await turns();
    assert.equal(writes.length, 1, 'one write in flight at a time');
    for (let i = 0; writes[i] !== undefined; i++) {
      writes[i]!.finish();
      await turns();
    }
    await recorder.drain();
    assert.deepEqual(
      writes.map((write) => [write.ids.length, write.ids[0]]),
      [
        [10_000, 1],
        [10_000, 10_001],
        [5_000, 20_001],
      ],
    );
    assert.equal(recorder.hasPending, false);
  });

  test('no write starts while a renewal is in flight; the next one starts when it answers', async () => {
    const writes: Write[] = [];
    let renewal: Promise<unknown> | undefined;
    let answer = () => {};
    const recorder = recorderWith(writes, () => renewal);
    recorder.add(records(1, 15_000), '7');
    await turns();
    assert.equal(writes.length, 1);

    // A renewal is sent while the first write holds the lease row's lock.
    renewal = new Promise<void>((resolve) => (answer = resolve));
    writes[0]!.finish();
    await turns();
    assert.equal(writes.length, 1, 'the second write waits for the renewal');
    recorder.add(records(20_001, 10), '7');
    await turns();
    assert.equal(writes.length, 1, 'new records wait with it');

    answer();
    renewal = undefined;
    await turns();
    assert.equal(writes.length, 2, 'the renewal answered: the next write goes');
    writes[1]!.finish();
    await turns();
    writes[2]?.finish();
    await recorder.drain();
    assert.deepEqual(
      writes.flatMap((write) => write.ids).sort((a, b) => a - b),
      [...records(1, 15_000), ...records(20_001, 10)].map((record) => record.id),
      'every record written once',
    );
  });
});
