// A renewal of the lease is sent beside the sending, not waited for (src/beat/send-round.ts,
// Beat.keepLeadership): on PostgreSQL the renewal's INSERT … ON CONFLICT DO UPDATE queues
// behind any lock on the lease row, such as the FOR SHARE fence of a records write in
// flight, and the runs falling due meanwhile must still go out while the lease is surely
// held by the local clock; not one after. Here a session of the test holds that lock (as
// a records write's fence does) on a beat in this process with the fake clock
// (test/beat/in-process.ts); only the database answers in real time.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';

import pg from 'pg';

import type { BeatStore, LeaseGrant } from '../../src/db/store.js';
import { postgresDialect } from '../support/dialects.js';
import { BenchPerTest, settleTurns, until } from './in-process.js';

const S = 1000;
/** A Monday, on the hour: 2030-01-07T10:00:00Z. */
const T0 = Date.parse('2030-01-07T10:00:00.000Z');
/**
 * The lease's time to live: renewed every 20 s of the fake clock, surely held for 59.75 s
 * after a grant (Lease.tryAcquire's margin). The database counts it in real time, which
 * the test keeps far shorter, so the lease never lapses there.
 */
const LEASE_SECONDS = 60;
const RENEW_MS = (LEASE_SECONDS * S) / 3;
const SURELY_HELD_MS = LEASE_SECONDS * S - 250;

/** The store, with every lease grant logged. */
function logGrants(store: BeatStore, grants: (LeaseGrant | null)[]): BeatStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'acquireLease') {
        return async (...args: Parameters<BeatStore['acquireLease']>): Promise<LeaseGrant | null> => {
          const grant = await target.acquireLease(...args);
          grants.push(grant);
          return grant;
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('a renewal beside the sending on postgres', () => {
  let grants: (LeaseGrant | null)[];
  let standby: string[];
  let locker: pg.Client | undefined;
  // Registered first, so it runs before BenchPerTest's stop of the beat (whose release of the
  // lease would wait for the lock too); a test's own t.after would run after it.
  afterEach(() => unlock());
  const beats = new BenchPerTest(postgresDialect, () => {
    grants = [];
    standby = [];
  });

  /** Ends the test's transaction on the lease row (its lock goes with it). */
  async function unlock(): Promise<void> {
    const client = locker;
    locker = undefined;
    await client?.query('COMMIT').catch(() => undefined);
    await client?.end().catch(() => undefined);
  }

  test(
    'runs keep going out while a renewal waits on a lock of the lease row, until the lease is no longer surely held; once it goes through, the same leader records them all',
    { timeout: 60_000 },
    async () => {
      const id = await beats.bench.insertTask({
        name: 'tick',
        schedule: { interval: { every: 1, period: 'seconds' } },
        dateChanged: new Date(T0 - 10 * S),
      });
      const beat = await beats.start(T0, { leaseSeconds: LEASE_SECONDS }, (store) => logGrants(store, grants));
      beat.beat.on('standby', ({ reason }) => standby.push(reason));
      const [first] = grants;
      assert.ok(first, 'the beat took the lease');
      await beat.runUntil(T0 + RENEW_MS - 5 * S);

      // A transaction holds the lease row as the fence of a records write does.
      locker = new pg.Client({ connectionString: beats.bench.temp.url });
      await locker.connect();
      const lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await locker.query('BEGIN');
      await locker.query('SELECT token FROM dbbeat_lease FOR SHARE');
      const waitingOnLocker = async () =>
        (
          await beats.bench.db.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
            [lockerPid],
          )
        )[0]!.n;

      // The renewal falls due at 20 s: it waits on the lock, and the loop goes on (each
      // runUntil step waits for the beat to be idle again: it would time out otherwise).
      await beat.runUntil(T0 + RENEW_MS + 1 * S);
      await until(async () => (await waitingOnLocker()) === 1, 'the renewal waits on the lease row');
      assert.equal(grants.length, 1, 'no grant since the first');
      // Through a second renewal's time too (40 s), up to the last second the lease is surely held.
      await beat.runUntil(T0 + SURELY_HELD_MS);
      const sentAt = beat.broker.sentAtOf('tick').map((at) => Date.parse(at) - T0);
      for (let second = RENEW_MS / S - 4; second <= SURELY_HELD_MS / S; second++)
        assert.ok(sentAt.includes(second * S), `the run due at ${second} s went out on time`);
      assert.equal(await waitingOnLocker(), 1, 'the renewal is still waiting');
      assert.equal(grants.length, 1);

      // Past the lease's local validity: nothing more is sent, whatever falls due.
      const sentBefore = beat.broker.received.length;
      for (let second = 0; second < 5; second++) {
        beat.clock.advance(1 * S);
        await settleTurns();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(beat.broker.received.length, sentBefore, 'nothing sent once the lease is not surely held');
      const stoppedAt = beat.clock.now();

      // The lock goes: the renewal is granted under the same token, the beat goes on as leader.
      // Until the beat goes idle after sending: the first idle step after the unlock may come
      // before the sending (a records write waits for each renewal's answer, and the overdue
      // successor is in flight), and a step that sleeps 0 ms waits on the fake clock, so each
      // look fires what is due now, time standing.
      let idleAfterSending = false;
      beat.beat.on('idle', () => (idleAfterSending ||= beat.broker.received.length > sentBefore));
      await unlock();
      await until(() => {
        beat.clock.advance(0);
        return idleAfterSending;
      }, 'the beat sends and goes idle after the unlock');
      // The waiting renewal, then (its successor being overdue) the next one.
      assert.ok(grants.length >= 2, 'the waiting renewal was granted');
      for (const grant of grants) assert.equal(grant?.token, first.token, 'same token');
      assert.deepEqual(standby, [], 'no step-down');
      assert.equal(beat.beat.isLeader, true);
      const after = beat.broker.received.slice(sentBefore);
      assert.ok(after.length > 0, 'what fell due meanwhile is sent once the renewal went through');
      assert.ok(
        after.every(({ at }) => at === stoppedAt),
        'sent after the renewal, not while it waited',
      );
      await until(
        async () => (await beats.bench.row(id)).total_run_count === beat.broker.slotsOf('tick').length,
        'every run sent is recorded',
      );
    },
  );
});
