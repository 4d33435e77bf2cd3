// Time as the beat sees it: a Clock to read and to set timers on (the real one, or a
// test's fake), a Waker to sleep on it, and a Backoff for retries.

/**
 * The beat's clocks. Every reading of the time in beat code goes through one: the wall
 * clock for schedules, the monotonic one for durations (lease validity, when to renew,
 * when to poll), so that a step of the wall clock neither stops renewals nor repeats runs.
 */
export interface Clock {
  /** Wall-clock time, epoch ms. */
  now(): number;
  /** Monotonic time in ms from an arbitrary origin: never steps, only elapses. */
  monotonic(): number;
  /** Calls `fire` after `ms` milliseconds have elapsed; returns a function that cancels. */
  setTimer(ms: number, fire: () => void): () => void;
}

/** The real clock: Date.now(), performance.now() and setTimeout. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer(ms, fire) {
    const timer = setTimeout(fire, ms);
    return () => clearTimeout(timer);
  },
};

/** Exponential backoff with jitter, for retries against a broker or database that is down. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly baseMs = 250,
    private readonly maxMs = 15_000,
  ) {}

  /** The delay before the next attempt, growing with each consecutive failure. */
  next(): number {
    const exponential = Math.min(this.maxMs, this.baseMs * 2 ** this.failures);
    this.failures += 1;
    return exponential / 2 + Math.random() * (exponential / 2);
  }

  reset(): void {
    this.failures = 0;
  }

  get failing(): boolean {
    return this.failures > 0;
  }
}

/**
 * A sleep that something else can cut short: the loop sleeps until its next run,
 * and a change notification or stop() wakes it at once.
 */
export class Waker {
  private cancel: (() => void) | undefined;
  private resolve: (() => void) | undefined;
  private pending = false;

  constructor(private readonly clock: Clock = systemClock) {}

  /** Sleeps up to `ms`, or less if wake() is called (also if it was called before). */
  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.resolve = resolve;
      this.cancel = this.clock.setTimer(Math.max(0, ms), () => this.finish());
    });
  }

  wake(): void {
    if (this.resolve) this.finish();
    else this.pending = true;
  }

  /** Ends a sleep under way; does nothing otherwise (the caller's state is read before the next sleep). */
  wakeIfSleeping(): void {
    if (this.resolve) this.finish();
  }

  private finish(): void {
    this.cancel?.();
    const resolve = this.resolve;
    this.resolve = undefined;
    this.cancel = undefined;
    resolve?.();
  }
}
