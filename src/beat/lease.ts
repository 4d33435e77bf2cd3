import type { BeatStore, Fence } from '../db/store.js';
import { type Clock, systemClock } from './clock.js';
import { DatabaseClock } from './database-clock.js';

export interface LeaseOptions {
  /** Lease row name; beats sharing a name elect one leader among them. */
  name: string;
  /** Unique per process, e.g. "host:pid:random". */
  holder: string;
  /** Seconds a lease lasts without renewal (database clock). */
  ttlSeconds: number;
}

/**
 * The leader lease, kept in dbbeat_lease with the database's clock. `token` is the
 * fencing token that every write of the leader checks (BeatStore.recordRuns).
 *
 * Locally we also track how long the lease is surely ours (by the monotonic clock,
 * counted from before the request was sent), so the leader stops sending the moment
 * it might have lapsed, even while the database cannot be reached.
 */
export class Lease {
  private heldToken: string | null = null;
  private validUntil = 0; // clock.monotonic() ms

  constructor(
    private readonly store: Pick<BeatStore, 'acquireLease' | 'releaseLease'>,
    readonly options: LeaseOptions,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The fencing token while the lease is surely held, else null. */
  get token(): string | null {
    return this.heldToken !== null && this.clock.monotonic() < this.validUntil ? this.heldToken : null;
  }

  get isHeld(): boolean {
    return this.token !== null;
  }

  /** What a fenced write checks, while the lease is surely held. */
  get fence(): Fence | null {
    const token = this.token;
    return token === null ? null : { name: this.options.name, token };
  }

  /**
   * Takes or renews the lease. Resolves to true when this process holds it.
   * A failed query rejects and leaves the local validity to run out on its own.
   */
  async tryAcquire(): Promise<boolean> {
    const sentAt = this.clock.monotonic();
    const sentWall = this.clock instanceof DatabaseClock ? this.clock.base.now() : 0;
    const grant = await this.store.acquireLease(this.options.name, this.options.holder, this.options.ttlSeconds);
    // The database's clock of every renewal: the beat schedules by it (see database-clock.ts).
    if (grant !== null && this.clock instanceof DatabaseClock)
      this.clock.observe(grant.databaseNow, sentWall, this.clock.base.now());
    if (grant === null) {
      this.heldToken = null;
      this.validUntil = 0;
      return false;
    }
    this.heldToken = grant.token;
    // A small margin for the time the answer took to travel back.
    this.validUntil = sentAt + Math.max(0, grant.secondsLeft * 1000 - 250);
    return true;
  }

  /** Gives the lease up so a standby takes over at once. Never throws. */
  async release(): Promise<void> {
    const token = this.heldToken;
    this.heldToken = null;
    this.validUntil = 0;
    if (token === null) return;
    try {
      await this.store.releaseLease(this.options.name, this.options.holder, token);
    } catch {
      // The lease lapses by itself after its time to live.
    }
  }

  /** Forget the lease locally (after a fenced write found it gone). */
  drop(): void {
    this.heldToken = null;
    this.validUntil = 0;
  }
}
