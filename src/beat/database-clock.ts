import { type Clock, systemClock } from './clock.js';
import type { Logger } from './logger.js';

/** A reading whose round trip took longer than this says too little about the offset. */
const MAX_SAMPLE_RTT_MS = 1000;
/** A move of the offset by more than this is logged. */
const LOG_MOVE_MS = 500;

/**
 * The beat's clock: this host's clock corrected by its offset from the database's,
 * measured at every lease renewal. Leases run on the database's clock, so schedules
 * must too: a host 30 s ahead would otherwise see every run as 30 s late (and collapse
 * missed runs), one 30 s behind would send nothing for 30 s after taking over.
 *
 * The offset is the database's time minus the midpoint of the request on this host's
 * clock (NTP's estimate; off by at most half the round trip). It is replaced only when
 * a new reading differs by more than that uncertainty, so jitter does not move the clock.
 */
export class DatabaseClock implements Clock {
  private offset = 0;
  private measured = false;
  private logged = 0;

  constructor(
    private readonly log: Pick<Logger, 'info' | 'warn'>,
    readonly base: Clock = systemClock,
  ) {}

  /** Epoch ms on the database's clock (as last measured). */
  now(): number {
    return this.base.now() + this.offset;
  }

  /** Durations are not corrected: the monotonic clock never steps. */
  monotonic(): number {
    return this.base.monotonic();
  }

  setTimer(ms: number, fire: () => void): () => void {
    return this.base.setTimer(ms, fire);
  }

  /** The database's clock minus this host's, in ms (0 until measured). */
  get offsetMs(): number {
    return this.offset;
  }

  /**
   * Takes one reading: the database said `databaseNow` during a request sent at `sentAt`
   * and answered at `receivedAt` (both on the base clock, epoch ms).
   */
  observe(databaseNow: number, sentAt: number, receivedAt: number): void {
    const rtt = receivedAt - sentAt;
    if (!Number.isFinite(databaseNow) || rtt < 0 || rtt > MAX_SAMPLE_RTT_MS) return;
    const offset = databaseNow - (sentAt + receivedAt) / 2;
    if (this.measured && Math.abs(offset - this.offset) <= Math.max(5, rtt / 2)) return;
    this.offset = offset;
    const rounded = Math.round(offset);
    if (!this.measured) {
      this.measured = true;
      this.logged = offset;
      this.log.info(
        { offsetMs: rounded, rttMs: Math.round(rtt) },
        `database clock is ${describe(rounded)}; runs are scheduled by the database's clock`,
      );
    } else if (Math.abs(offset - this.logged) > LOG_MOVE_MS) {
      this.log.warn(
        { offsetMs: rounded, previousOffsetMs: Math.round(this.logged), rttMs: Math.round(rtt) },
        `database clock offset moved from ${Math.round(this.logged)} ms to ${rounded} ms (this host's clock was stepped or drifts); runs follow the database's clock`,
      );
      this.logged = offset;
    }
  }
}

function describe(offsetMs: number): string {
  if (offsetMs === 0) return 'in step with this host';
  return `${Math.abs(offsetMs)} ms ${offsetMs > 0 ? 'ahead of' : 'behind'} this host's clock`;
}
