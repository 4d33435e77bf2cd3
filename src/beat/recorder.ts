import { type BeatStore, type RecordOutcome, type RunRecord, unknownLockHolder } from '../db/store.js';
import { type Clock, systemClock } from './clock.js';
import type { Lease } from './lease.js';
import type { Logger } from './logger.js';

/** How long a stopping beat keeps trying to record runs whose rows another transaction locks. */
const STOP_RECORD_WAIT_MS = 10_000;
const STOP_RECORD_RETRY_MS = 250;
/**
 * The most records one background write takes. Its fence holds the lease row's shared lock
 * until it commits, and a renewal waits for that: a write of a 50,000-record backlog on a
 * busy database took seconds, longer than a renewal can wait (a 1M burst stepped down).
 */
const MAX_RECORDS_PER_WRITE = 10_000;

/**
 * Writes what the beat did to the task table: runs the broker accepted (last_run_at,
 * total_run_count, one-off tasks disabled) and expired tasks disabled. Every write is
 * fenced by the lease token, so a leader that lost its lease writes nothing; when a
 * write finds the lease gone, `onLeaseLost` is called and the records are dropped.
 *
 * Records are written in the background, beside the sending (the broker and the
 * database work at the same time, and the beat never waits for the database's write
 * time to send what falls due next). At most one write is in flight; the records added
 * meanwhile go in the next ones, together, up to MAX_RECORDS_PER_WRITE a write, and no
 * write starts while a lease renewal is in flight. A failed write keeps its records: `failed` says
 * so, the beat's next step rethrows it (settle) and writes them before anything new is sent.
 */
export class Recorder {
  private pending: RunRecord[] = [];
  /** Records whose row another transaction has locked, one per task, tried again on every flush. */
  private held = new Map<number, RunRecord>();
  /** Tasks whose held record was reported, and since when (epoch ms), so each is logged once. */
  private readonly heldSince = new Map<number, { name: string; since: number }>();
  private recording: Promise<void> | undefined;
  /** The background write waits for beforeWrite (a renewal in flight) before its next request. */
  private waitingToWrite = false;
  /** The background write's failure, boxed: whatever was thrown, even undefined, is rethrown as it was. */
  private recordingError: { error: unknown } | undefined;
  /** The fencing token of the runs added last: the background write's. */
  private token = '';
  /**
   * Counts clear() calls: a write that started before one (a leadership given up since)
   * finds it changed, and leaves the records, the failure and the lease alone.
   */
  private generation = 0;

  constructor(
    private readonly store: Pick<BeatStore, 'recordRuns' | 'disableTasks' | 'rowLockHolders'>,
    private readonly lease: Lease,
    private readonly log: Logger,
    private readonly onLeaseLost: (reason: string) => void,
    private readonly clock: Clock = systemClock,
    /** Called when a background write ends (written or failed): the beat looks at the outcome. */
    private readonly onWriteEnded: () => void = () => undefined,
    /**
     * What a background write waits for before it starts: a lease renewal in flight
     * (LeaseRenewal.answeredOrIdle), which a stream of fenced writes could otherwise starve.
     */
    private readonly beforeWrite: () => Promise<unknown> | undefined = () => undefined,
  ) {}

  /** Records wait to be written (new ones, or ones held by another transaction's row lock). */
  get hasPending(): boolean {
    return this.pending.length > 0 || this.held.size > 0;
  }

  /** True when a background write failed and settle() has not reported it yet. */
  get failed(): boolean {
    return this.recordingError !== undefined;
  }

  /** True while a background write is in flight. */
  get writing(): boolean {
    return this.recording !== undefined;
  }

  /**
   * True while the background write waits for a lease renewal in flight before its next
   * request: the renewal's answer wakes the beat, and the write goes on by itself then.
   */
  get waitingForRenewal(): boolean {
    return this.waitingToWrite;
  }

  /** Records waiting for the next write (not counting the one in flight, nor the held ones). */
  get backlog(): number {
    return this.pending.length;
  }

  /**
   * Queues records and starts writing them, fenced by `token`, unless a write already
   * runs: then they go in the next write, with everything else added meanwhile.
   */
  add(records: readonly RunRecord[], token: string): void {
    if (records.length === 0) return; // (writeInBackground must not end before it is assigned)
    for (const record of records) this.pending.push(record); // no spread: a burst's batch can be large
    this.token = token;
    this.recording ??= this.writeInBackground();
  }

  private async writeInBackground(): Promise<void> {
    const generation = this.generation;
    try {
      while (this.pending.length > 0 && generation === this.generation) {
        const before = this.beforeWrite();
        if (before !== undefined) {
          this.waitingToWrite = true;
          await before;
          this.waitingToWrite = false;
          if (generation !== this.generation) break;
        }
        await this.flush(this.token, MAX_RECORDS_PER_WRITE);
      }
    } catch (error) {
      if (generation === this.generation) this.recordingError = { error };
    } finally {
      this.recording = undefined;
      this.waitingToWrite = false;
      this.onWriteEnded();
    }
  }

  /** Waits for the write in flight; rethrows its failure (the records stay pending). */
  async settle(): Promise<void> {
    await this.recording;
    const failure = this.recordingError;
    this.recordingError = undefined;
    if (failure !== undefined) throw failure.error;
  }

  /**
   * Writes the pending records now (and the held ones again), fenced by `token` (default:
   * the lease's, which must be held). Rows locked by another transaction are not waited
   * for: their records are held and tried again on the next flush, and the lock is
   * logged once, naming the task and the session that holds it. `limit` caps how many
   * pending records this write takes (the rest stay pending); the held ones all go.
   */
  async flush(token = this.lease.token, limit = Infinity): Promise<void> {
    if (!this.hasPending) return;
    if (token === null) throw new Error('cannot record runs: the lease is not held');
    const generation = this.generation;
    const byTask = this.held;
    this.held = new Map();
    for (const record of this.pending.splice(0, limit)) mergeInto(byTask, record); // Infinity: all
    let outcome: RecordOutcome;
    try {
      outcome = await this.store.recordRuns([...byTask.values()], { name: this.lease.options.name, token });
    } catch (error) {
      if (generation !== this.generation) return; // stepped down meanwhile: the next leader sends them again
      this.pending = [...byTask.values(), ...this.pending]; // retried before anything new is sent
      throw error;
    }
    if (generation !== this.generation) return;
    if (!outcome.held) {
      // Fenced out: another leader may be running. Its re-send of these runs carries
      // the same ids, which Redis suppresses.
      this.onLeaseLost('the lease was lost before the runs could be recorded');
      return;
    }
    const now = this.clock.now();
    const newlyLocked: number[] = [];
    for (const id of outcome.locked) {
      const record = byTask.get(id);
      if (record === undefined) continue;
      mergeInto(this.held, record);
      if (!this.heldSince.has(id)) newlyLocked.push(id);
    }
    for (const id of outcome.written) {
      const held = this.heldSince.get(id);
      if (held === undefined) continue;
      this.heldSince.delete(id);
      this.log.info(
        { taskId: id, task: held.name, heldMs: now - held.since },
        `recorded the held run(s) of task ${JSON.stringify(held.name)}: its row lock was released after ${Math.round((now - held.since) / 1000)} s`,
      );
    }
    if (newlyLocked.length > 0) await this.reportLocked(newlyLocked, now);
  }

  /**
   * Writes what is still pending before a leader exits. Records held by another
   * transaction's row lock are tried again (the lease renewed meanwhile) for up to
   * STOP_RECORD_WAIT_MS, so a short lock does not cost a re-send; a longer one is
   * reported (reportUnrecorded) and left to the next leader, whose re-send carries the
   * same task ids. Never throws: a failure is logged.
   */
  async writeBeforeStopping(leaseSeconds: number): Promise<void> {
    const giveUpAt = this.clock.monotonic() + STOP_RECORD_WAIT_MS;
    let renewAt = this.clock.monotonic() + (leaseSeconds * 1000) / 3;
    while (this.hasPending) {
      try {
        if (!this.lease.isHeld || this.clock.monotonic() >= renewAt) {
          if (!(await this.lease.tryAcquire())) return;
          renewAt = this.clock.monotonic() + (leaseSeconds * 1000) / 3;
        }
        await this.flush();
      } catch (error) {
        this.log.error({ err: error }, 'could not record the last runs');
        return;
      }
      if (!this.hasPending || this.clock.monotonic() >= giveUpAt) return;
      await new Promise<void>((resolve) => this.clock.setTimer(STOP_RECORD_RETRY_MS, resolve));
    }
  }

  /** Runs sent but not recorded because their rows stayed locked; said once on the way out. */
  reportUnrecorded(): void {
    if (this.held.size === 0) return;
    const names = [...this.held.keys()].map((id) => this.heldSince.get(id)?.name ?? `#${id}`);
    this.log.warn(
      { tasks: names },
      `${this.held.size} task(s) sent but not recorded, their rows locked by another transaction: ${names.map((name) => JSON.stringify(name)).join(', ')}; ` +
        'the next leader re-sends those runs with the same task ids',
    );
  }

  private async reportLocked(ids: number[], now: number): Promise<void> {
    let holders;
    try {
      holders = await this.store.rowLockHolders(ids);
    } catch (error) {
      holders = ids.map((id) => unknownLockHolder(id));
      this.log.debug({ err: error }, 'could not read who holds the row locks');
    }
    for (const holder of holders) {
      this.heldSince.set(holder.id, { name: holder.name, since: now });
      const who =
        holder.pid === null
          ? 'another transaction (the database does not say which)'
          : `process ${holder.pid}` +
            ` (${[
              holder.application || null,
              holder.client,
              holder.state,
              holder.since === null ? null : `transaction since ${new Date(holder.since).toISOString()}`,
            ]
              .filter((part) => part !== null)
              .join(', ')}${holder.query ? `; last statement: ${holder.query.replace(/\s+/g, ' ')}` : ''})`;
      this.log.warn(
        {
          taskId: holder.id,
          task: holder.name,
          blockerPid: holder.pid,
          blockerApplication: holder.application,
          blockerState: holder.state,
          blockerQuery: holder.query,
        },
        `cannot record the run of task ${JSON.stringify(holder.name)} yet: its row is locked by ${who}; ` +
          'sending goes on, and the record is written once the lock is released',
      );
    }
  }

  /** Disables tasks (expired ones) while the lease is held; does nothing without it. */
  async disable(ids: readonly number[]): Promise<void> {
    const fence = this.lease.fence;
    if (ids.length === 0 || fence === null) return;
    await this.store.disableTasks(ids, fence);
    this.log.info({ tasks: ids.length }, `disabled ${ids.length} expired task(s)`);
  }

  /** Waits for the write in flight, whatever its outcome. */
  async drain(): Promise<void> {
    await this.recording;
  }

  /**
   * Forgets every pending record (after stepping down: the next leader sends them again).
   * A write in flight finishes, but its outcome is ignored.
   */
  clear(): void {
    this.generation += 1;
    this.pending = [];
    this.held = new Map();
    this.heldSince.clear();
    this.recordingError = undefined;
  }
}

/** Adds a record to a per-task map; two records of one task merge into one write. */
function mergeInto(byTask: Map<number, RunRecord>, record: RunRecord): void {
  const previous = byTask.get(record.id);
  byTask.set(
    record.id,
    previous === undefined
      ? record
      : {
          id: record.id,
          lastRunAt: Math.max(previous.lastRunAt, record.lastRunAt),
          runs: previous.runs + record.runs,
          disable: previous.disable || record.disable,
        },
  );
}
