// An in-process beat for the run-rule tests: a fake clock, an in-memory broker and a
// fresh database per test file, on either dialect (test/support/dialects.ts). Time moves only when a test moves it, and a
// test waits for the beat's typed events, never for real time or log text
// (graphile-worker's cron tests are the model).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, afterEach, before, beforeEach } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';

import pino from 'pino';

import type { Clock } from '../../src/beat/clock.js';
import { Beat } from '../../src/beat/loop.js';
import type { Broker, PublishOutcome, TaskMessage } from '../../src/broker/types.js';
import { type BeatOptions, resolveConfig } from '../../src/config.js';
import { migrate } from '../../src/db/migrate.js';
import { beatStoreFor, openDatabase, type OpenDatabase } from '../../src/db/open.js';
import type { BeatStore } from '../../src/db/store.js';
import { allTestDialects, type TestDialect } from '../support/dialects.js';
import type { TaskRowInput } from '../support/rows.js';

/**
 * A clock that moves only when told. Timers measure elapsed time, as setTimeout does:
 * `advance` moves the wall clock and elapsed time together and fires the timers due;
 * `jump` moves the wall clock alone (an NTP step, a suspended VM), firing nothing.
 */
export class FakeClock implements Clock {
  private elapsed = 0;
  private readonly timers = new Set<{ dueAt: number; fire: () => void }>();

  constructor(private wall: number) {}

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.elapsed;
  }

  setTimer(ms: number, fire: () => void): () => void {
    const timer = { dueAt: this.elapsed + ms, fire };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /** Wall time at which the earliest timer fires, if any. */
  nextTimerAt(): number | undefined {
    let earliest: number | undefined;
    for (const timer of this.timers) if (earliest === undefined || timer.dueAt < earliest) earliest = timer.dueAt;
    return earliest === undefined ? undefined : this.wall + (earliest - this.elapsed);
  }

  /** Moves time forward by `ms`; returns how many timers fired. */
  advance(ms: number): number {
    this.elapsed += ms;
    this.wall += ms;
    const due = [...this.timers].filter((timer) => timer.dueAt <= this.elapsed).sort((a, b) => a.dueAt - b.dueAt);
    for (const timer of due) {
      this.timers.delete(timer);
      timer.fire();
    }
    return due.length;
  }

  /** Moves the wall clock by `ms` (negative: back), as a clock step does; timers keep their durations. */
  jump(ms: number): void {
    this.wall += ms;
  }
}

/** One message the broker accepted, and the fake time it arrived. */
export interface Received {
  message: TaskMessage;
  at: number;
}

/** A broker in memory: keeps what it accepts and, like dbbeat's Redis script, drops a repeated task id. */
export class MemoryBroker implements Broker {
  readonly kind = 'memory';
  readonly received: Received[] = [];
  private readonly seen = new Set<string>();
  /** When set, publish() rejects with it (the broker is down). */
  down: Error | undefined;
  /** Broker.prepare, when a test sets one (none by default, as a broker may have none). */
  prepare?: (message: TaskMessage) => void;

  constructor(private readonly clock: Clock) {}

  publish(messages: readonly TaskMessage[]): Promise<PublishOutcome[]> {
    if (this.down) return Promise.reject(this.down);
    return Promise.resolve(
      messages.map((message) => {
        if (this.seen.has(message.id)) return { id: message.id, status: 'duplicate' as const };
        this.seen.add(message.id);
        this.received.push({ message, at: this.clock.now() });
        return { id: message.id, status: 'sent' as const };
      }),
    );
  }

  async ping(): Promise<void> {}
  async close(): Promise<void> {}

  /** Scheduled slots (ISO) of the runs received for task `name`, in order. */
  slotsOf(name: string): string[] {
    return this.received
      .filter((r) => r.message.periodicTaskName === name)
      .map((r) => r.message.scheduledAt?.toISOString() ?? 'manual');
  }

  /** Times (ISO, fake clock) at which the runs of task `name` were sent. */
  sentAtOf(name: string): string[] {
    return this.received.filter((r) => r.message.periodicTaskName === name).map((r) => new Date(r.at).toISOString());
  }
}

/** The store without change notifications: the beat learns of edits by polling, on the fake clock. */
function pollingOnly(store: BeatStore): BeatStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'watchChanges') return () => Promise.resolve(() => Promise.resolve());
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const EVENT_TIMEOUT_MS = 10_000;
/** Wake-ups in a row at one instant of the fake clock beyond which the loop is taken to spin (RunningBeat.runUntil). */
const MAX_WAKES_WITHOUT_TIME = 100;

/** One database for a test file; a fresh Beat, clock and broker per test. */
export class BeatBench {
  private constructor(
    readonly dialect: TestDialect,
    readonly temp: { url: string; drop(): Promise<void> },
    readonly db: OpenDatabase,
    readonly store: BeatStore,
  ) {}

  /** A fresh migrated database on `dialect` (default PostgreSQL). */
  static async create(dialect: TestDialect = allTestDialects[0]!): Promise<BeatBench> {
    const temp = await dialect.create('dbbeat_inproc');
    const db = await openDatabase({ databaseUrl: temp.url, poolSize: 4 });
    await migrate(db);
    return new BeatBench(dialect, temp, db, beatStoreFor(db));
  }

  /** Runs the test's own SQL, written with `$1, $2, …` placeholders (each once, in order). */
  async sql(sql: string, params: readonly unknown[] = []): Promise<void> {
    await this.dialect.query(this.db, sql, params);
  }

  /** A time parameter for sql(), as this dialect's driver writes it. */
  time(at: Date): unknown {
    return this.dialect.time(this.db, at);
  }

  /** Inserts a task and its schedule with plain SQL; returns the task id. */
  insertTask(input: TaskRowInput): Promise<number> {
    return this.dialect.insertTask(this.db, input);
  }

  /** The task's bookkeeping as the store reads it. */
  async row(id: number): Promise<{ last_run_at: Date | null; total_run_count: number; enabled: boolean }> {
    const [row] = await this.store.loadByIds([id]);
    if (row === undefined) throw new Error(`no task row with id ${id}`);
    return {
      last_run_at: row.last_run_at === null ? null : new Date(row.last_run_at),
      total_run_count: row.total_run_count,
      enabled: row.enabled,
    };
  }

  /** Deletes every task and schedule row, between tests. */
  async reset(): Promise<void> {
    await this.dialect.reset(this.db);
  }

  /**
   * Starts a beat at fake time `now` and waits until it has loaded and sent what is due.
   * `wrap` puts a test's own layer around the store (e.g. to hold a write).
   */
  async start(
    now: number,
    options: BeatOptions = {},
    wrap: (store: BeatStore) => BeatStore = (store) => store,
  ): Promise<RunningBeat> {
    const clock = new FakeClock(now);
    const broker = new MemoryBroker(clock);
    const config = resolveConfig(
      { leaseSeconds: 300, maxInterval: 60, catchUpWindow: 15, migrate: false, ...options, databaseUrl: this.temp.url },
      {},
    );
    const beat = new Beat(wrap(pollingOnly(this.store)), broker, pino({ level: 'silent' }), config, clock);
    const running = new RunningBeat(beat, clock, broker);
    await running.waitIdle(() => beat.start());
    return running;
  }

  async close(): Promise<void> {
    await this.db.close();
    await this.temp.drop();
  }
}

/**
 * The hooks every in-process test file repeats, registered on the enclosing describe: one
 * BeatBench for it (made before its first test, closed after its last), emptied before each
 * test, and the beat a test started stopped after it. Call inside a describe.
 */
export class BenchPerTest {
  private made: BeatBench | undefined;
  private current: RunningBeat | undefined;

  /** `beforeEachTest` runs after the reset, for the file's own per-test state. */
  constructor(dialect: TestDialect, beforeEachTest?: () => void) {
    before(async () => {
      this.made = await BeatBench.create(dialect);
    });
    after(async () => {
      await this.made?.close();
    });
    beforeEach(async () => {
      await this.bench.reset();
      beforeEachTest?.();
    });
    afterEach(() => this.stop());
  }

  /** The describe's bench; there from its first test on. */
  get bench(): BeatBench {
    if (this.made === undefined) throw new Error('the bench is made before the first test');
    return this.made;
  }

  /** The beat the test started last, if it has not stopped. */
  get running(): RunningBeat | undefined {
    return this.current;
  }

  /** BeatBench.start, remembered so that it is stopped after the test. */
  async start(now: number, options?: BeatOptions, wrap?: (store: BeatStore) => BeatStore): Promise<RunningBeat> {
    this.current = await this.bench.start(now, options, wrap);
    return this.current;
  }

  async stop(): Promise<void> {
    await this.current?.stop();
    this.current = undefined;
  }
}

export class RunningBeat {
  constructor(
    readonly beat: Beat,
    readonly clock: FakeClock,
    readonly broker: MemoryBroker,
  ) {}

  /** Runs `action` and waits until the loop has done the step it causes and sleeps again. */
  async waitIdle(action: () => void): Promise<void> {
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(EVENT_TIMEOUT_MS)]);
    const idle = once(this.beat, 'idle', { signal });
    const failure = once(this.beat, 'failure', { signal }).then(([error]) => {
      throw error as Error;
    });
    action();
    try {
      await Promise.race([idle, failure]);
    } finally {
      controller.abort();
      idle.catch(() => undefined);
      failure.catch(() => undefined);
    }
  }

  /**
   * Moves the clock to `until` (epoch ms), stopping at each of the beat's wake-ups on the
   * way and waiting for its step, as real time would.
   */
  async runUntil(until: number): Promise<void> {
    let stalled = 0;
    for (;;) {
      const next = this.clock.nextTimerAt();
      if (next === undefined || next > until) break;
      // Rounded up: a fractional delay (a retry's backoff) read back through the wall clock's
      // epoch milliseconds can come out a hair short, and the timer would not fire.
      const ms = Math.max(0, Math.ceil(next - this.clock.now()));
      // A loop that keeps sleeping 0 ms would spin here for ever, and starve every real timer
      // (the test's own timeout too): it fails the test instead.
      stalled = ms === 0 ? stalled + 1 : 0;
      if (stalled > MAX_WAKES_WITHOUT_TIME)
        throw new Error(
          `the beat woke ${stalled} times at ${new Date(this.clock.now()).toISOString()}, time standing still`,
        );
      await this.waitIdle(() => this.clock.advance(ms));
    }
    if (until > this.clock.now()) this.clock.advance(until - this.clock.now());
  }

  async stop(): Promise<void> {
    await this.beat.stop();
  }
}

/** Lets the promise continuations already queued run. */
export async function settleTurns(): Promise<void> {
  for (let i = 0; i < 5; i++) await turn();
}

/** Waits (polling, real time, at most 10 s) until `condition` holds: the database answers in real time. */
export async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await condition()) return;
    await settleTurns();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`timed out waiting until ${what}`);
}
