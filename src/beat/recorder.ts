import type { BeatStore, RunRecord } from '../db/store.js';
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
  private recording: Promise<void> | undefined;
  private recordingError: unknown;

  constructor(
    private readonly store: Pick<BeatStore, 'recordRuns' | 'disableTasks'>,
    private readonly lease: Lease,
    private readonly log: Logger,
    private readonly onLeaseLost: (reason: string) => void,
  ) {}

  get hasPending(): boolean {
    return this.pending.length > 0;
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
        this.recordingError = error;
      } finally {
        this.recording = undefined;
      }
    })();
  }

  /** Waits for the write in flight; rethrows its failure (the records stay pending). */
  async settle(): Promise<void> {
    await this.recording;
    const error = this.recordingError;
    this.recordingError = undefined;
    if (error !== undefined) throw error;
  }

  /** Writes the pending records now, fenced by `token` (default: the lease's, which must be held). */
  async flush(token = this.lease.token): Promise<void> {
    if (this.pending.length === 0) return;
    if (token === null) throw new Error('cannot record runs: the lease is not held');
    const records = this.pending.splice(0);
    let written: number[];
    try {
      written = await this.store.recordRuns(records, { name: this.lease.options.name, token });
    } catch (error) {
      this.pending.unshift(...records); // retried before anything new is sent
      throw error;
    }
    if (written.length === 0) {
      // Fenced out (or every task was deleted meanwhile): another leader may be running.
      // Its re-send of these runs carries the same ids, which Redis suppresses.
      this.onLeaseLost('the lease was lost before the runs could be recorded');
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
  }
}
