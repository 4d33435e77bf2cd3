// The lease is renewed when a renewal falls due while a records write is in flight (the
// write runs in the background, src/beat/recorder.ts; the renewal beside the sending,
// src/beat/renewal.ts): a slow write of the records must not let the lease lapse and
// make the beat step down and load every task again. On a beat in this process with the
// fake clock (test/beat/in-process.ts), on each test dialect.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';

import type { BeatStore, LeaseGrant, RecordOutcome } from '../../src/db/store.js';
import { testDialects } from '../support/dialects.js';
import { BenchPerTest, type RunningBeat } from './in-process.js';

const S = 1000;
/** A Monday, on the hour: 2030-01-07T10:00:00Z. */
const T0 = Date.parse('2030-01-07T10:00:00.000Z');
/** The lease's time to live in these tests; the beat renews it every third of it. */
const LEASE_SECONDS = 30;
const RENEW_MS = (LEASE_SECONDS * S) / 3;

/** A store whose recordRuns waits, once armed, until the test releases it; it logs every lease grant. */
class HeldWrites {
  armed = false;
  readonly grants: (LeaseGrant | null)[] = [];
  /** 'grant' and 'written' (a records write answered), in the order they happened. */
  readonly order: ('grant' | 'written')[] = [];
  private entered: (() => void) | undefined;
  private release: (() => void) | undefined;
  private granted: (() => void) | undefined;

  wrap(store: BeatStore): BeatStore {
    return new Proxy(store, {
      get: (target, property, receiver) => {
        if (property === 'recordRuns') {
          return async (...args: Parameters<BeatStore['recordRuns']>): Promise<RecordOutcome> => {
            if (this.armed) {
              this.armed = false;
              const released = new Promise<void>((resolve) => (this.release = resolve));
              this.entered?.();
              await released;
            }
            const outcome = await target.recordRuns(...args);
            this.order.push('written');
            return outcome;
          };
        }
        if (property === 'acquireLease') {
          return async (...args: Parameters<BeatStore['acquireLease']>): Promise<LeaseGrant | null> => {
            const grant = await target.acquireLease(...args);
            this.grants.push(grant);
            this.order.push('grant');
            this.granted?.();
            return grant;
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** Resolves when the armed write has started (and is being held). */
  writeEntered(): Promise<void> {
    return new Promise((resolve) => (this.entered = resolve));
  }

  /** Resolves at the next lease grant (after the store answered). */
  nextGrant(): Promise<void> {
    return new Promise((resolve) => (this.granted = resolve));
  }

  releaseWrite(): void {
    assert.ok(this.release, 'a write is held');
    this.release();
  }
}

/** Lets the promise continuations already queued run (the beat's, after a store call answered). */
async function settleTurns(): Promise<void> {
  for (let i = 0; i < 5; i++) await turn();
}

for (const dialect of testDialects) {
  describe(`lease during a burst's tail on ${dialect.name}`, () => {
    let writes: HeldWrites;
    let standby: string[];
    const beats = new BenchPerTest(dialect, () => {
      writes = new HeldWrites();
      standby = [];
    });

    /** A task first due 5 s after T0, and a beat started at T0 that is idle before it. */
    async function startWithTaskDueSoon(): Promise<{ beat: RunningBeat; id: number }> {
      const id = await beats.bench.insertTask({
        name: 'soon',
        schedule: { interval: { every: 60, period: 'seconds' } },
        dateChanged: new Date(T0 - 55 * S),
      });
      const running = await beats.start(T0, { leaseSeconds: LEASE_SECONDS }, (store) => writes.wrap(store));
      running.beat.on('standby', ({ reason }) => standby.push(reason));
      assert.deepEqual(running.broker.slotsOf('soon'), []);
      return { beat: running, id };
    }

    test('a records write held longer than the lease lives: renewed on time with the same token, no step-down', async () => {
      const { beat, id } = await startWithTaskDueSoon();
      const [first] = writes.grants;
      assert.ok(first, 'the beat took the lease');
      const grantsBefore = writes.grants.length;

      writes.armed = true;
      const entered = writes.writeEntered();
      beat.clock.advance(5 * S); // the run falls due: sent, then its record's write is held
      await entered;
      assert.deepEqual(beat.broker.slotsOf('soon'), [new Date(T0 + 5 * S).toISOString()]);

      // Renewals fall due at 10, 20, 30 and 40 s of the beat's time; the lease taken at 0 s
      // lives 30 s, so without them it would no longer be surely held at the end.
      await settleTurns();
      let elapsed = 5 * S;
      for (let renewal = 1; renewal <= 4; renewal++) {
        const granted = writes.nextGrant();
        beat.clock.advance(renewal * RENEW_MS - elapsed);
        elapsed = renewal * RENEW_MS;
        await granted;
        // The beat takes the grant, writes its heartbeat (real time) and sleeps again.
        for (let i = 0; i < 1000 && !((beat.clock.nextTimerAt() ?? 0) > beat.clock.now()); i++) {
          await settleTurns();
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        assert.equal(writes.grants.length, grantsBefore + renewal, `renewal ${renewal} while the write is held`);
      }
      for (const grant of writes.grants.slice(grantsBefore)) assert.equal(grant?.token, first.token, 'same token');
      assert.ok(elapsed > LEASE_SECONDS * S);

      await beat.waitIdle(() => writes.releaseWrite());
      assert.deepEqual(standby, [], 'no step-down');
      assert.equal(beat.beat.isLeader, true);
      assert.equal((await beats.bench.row(id)).total_run_count, 1, 'the run was recorded');
    });

    test('a lease no longer surely held is not asked for until the records write in flight has ended', async () => {
      const { beat, id } = await startWithTaskDueSoon();
      const grantsBefore = writes.grants.length;

      writes.armed = true;
      const entered = writes.writeEntered();
      beat.clock.advance(5 * S);
      await entered;
      await settleTurns();

      // One jump past the lease's whole time to live: when the renewal's timer fires, the
      // lease is no longer surely held, so the beat must not ask for it while the write of
      // the runs sent under it is in flight (that write's fence decides whether it was lost).
      beat.clock.advance(LEASE_SECONDS * S);
      await settleTurns();
      assert.equal(writes.grants.length, grantsBefore, 'no renewal while not surely held');

      const ordered = writes.order.length;
      await beat.waitIdle(() => writes.releaseWrite());
      assert.equal(writes.order[ordered], 'written', 'the held write answered before the lease was asked for again');
      assert.equal((await beats.bench.row(id)).total_run_count, 1, 'the write, fenced by the database, went through');
      assert.deepEqual(standby, [], 'the fence held: no step-down');
    });
  });
}
