import type { BeatStore, RecordOutcome, RunRecord } from '../db/store.js';
import { type Clock, systemClock } from './clock.js';
import type { Lease } from './lease.js';
import type { Logger } from './logger.js';

/**
 * Writes what the beat did to the task table: runs the broker accepted (last_run_at,
 * total_run_count, one-off tasks disabled) and expired tasks disabled. Every write is
 * fenced by the lease token, so a leader that lost its lease writes nothing; when a
 * write finds the lease gone, `onLeaseLost` is called and the records are dropped.
 *
 * Records wait here until written: a failed write keeps them, and they are written
 * before anything new is sent. The writing of one batch's records runs beside the
 * sending of the next (the broker and the database work at the same time); at most one
 * write is in flight.
 */
export class Recorder {
  private pending: RunRecord[] = [];
  /** Records whose row another transaction has locked, one per task, tried again on every flush. */
  private held = new Map<number, RunRecord>();
  /** Tasks whose held record was reported, and since when (epoch ms), so each is logged once. */
  private readonly heldSince = new Map<number, { name: string; since: number }>();
  private recording: Promise<void> | undefined;
  /** The background write's failure, boxed: whatever was thrown, even undefined, is rethrown as it was. */
  private recordingError: { error: unknown } | undefined;

  constructor(
    private readonly store: Pick<BeatStore, 'recordRuns' | 'disableTasks' | 'rowLockHolders'>,
    private readonly lease: Lease,
    private readonly log: Logger,
    private readonly onLeaseLost: (reason: string) => void,
    private readonly clock: Pick<Clock, 'now'> = systemClock,
  ) {}

  /** Records wait to be written (new ones, or ones held by another transaction's row lock). */
  get hasPending(): boolean {
    return this.pending.length > 0 || this.held.size > 0;
  }

  /** True when a background write failed and settle() has not reported it yet. */
  get failed(): boolean {
    return this.recordingError !== undefined;
  }

  /** Queues records and starts writing them, fenced by `token`, unless a write already runs (it takes them too). */
  add(records: readonly RunRecord[], token: string): void {
    this.pending.push(...records);
    if (this.recording) return;
    this.recording = (async () => {
      try {
        while (this.pending.length > 0) await this.flush(token);
      } catch (error) {
        this.recordingError = { error };
      } finally {
        this.recording = undefined;
      }
    })();
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
   * logged once, naming the task and the session that holds it.
   */
  async flush(token = this.lease.token): Promise<void> {
    if (!this.hasPending) return;
    if (token === null) throw new Error('cannot record runs: the lease is not held');
    const byTask = this.held;
    this.held = new Map();
    for (const record of this.pending.splice(0)) mergeInto(byTask, record);
    let outcome: RecordOutcome;
    try {
      outcome = await this.store.recordRuns([...byTask.values()], { name: this.lease.options.name, token });
    } catch (error) {
      this.pending.unshift(...byTask.values()); // retried before anything new is sent
      throw error;
    }
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
      holders = ids.map((id) => ({
        id,
        name: `#${id}`,
        pid: null,
        application: null,
        client: null,
        state: null,
        since: null,
        query: null,
      }));
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

  /** Forgets every pending record (after stepping down: the next leader sends them again). */
  clear(): void {
    this.pending = [];
    this.held.clear();
    this.heldSince.clear();
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
