import type { Clock } from './clock.js';
import type { Lease } from './lease.js';

/** How a look at the lease ended: held by this process or not, or the database did not answer. */
export type LeaseAnswer = { held: boolean; error?: undefined } | { held: false; error: Error };

interface Asked {
  promise: Promise<LeaseAnswer>;
  answer: LeaseAnswer | undefined;
}

/**
 * When the leader renews its lease (every third of its time to live), and the request
 * itself: the loop's step asks and waits (start, take); a wait for a batch or a write
 * renews beside it (during). At most one request is in flight; the loop takes the answer
 * and acts on it (becomes leader, stands by, steps down).
 */
export class LeaseRenewal {
  /** When to renew next, monotonic ms. */
  private at = 0;
  private asked: Asked | undefined;

  constructor(
    private readonly lease: Pick<Lease, 'tryAcquire' | 'token'>,
    private readonly clock: Clock,
    private readonly leaseSeconds: number,
    /** Called when an answer comes (the loop wakes to take it). */
    private readonly onAnswer: () => void,
  ) {}

  /** A renewal is due (or overdue). */
  get due(): boolean {
    return this.clock.monotonic() >= this.at;
  }

  /** When the next renewal is due, monotonic ms. */
  get nextAt(): number {
    return this.at;
  }

  /** A lease request was started and its answer not taken yet. */
  get pending(): boolean {
    return this.asked !== undefined;
  }

  /** A request was sent and has not answered yet. */
  get inFlight(): boolean {
    return this.asked !== undefined && this.asked.answer === undefined;
  }

  /**
   * Resolves when the request in flight answers; undefined when none is in flight. Never
   * rejects. The Recorder waits on it before each fenced write: on PostgreSQL a renewal
   * (an UPDATE of the lease row) queues behind the FOR SHARE lock of the write in flight,
   * and a stream of back-to-back writes can take that shared lock over and over before the
   * waiting renewal gets it, until the lease lapses (seen in a 1M burst: 5 s of waiting,
   * a step-down, every task loaded again).
   */
  answeredOrIdle(): Promise<unknown> | undefined {
    return this.inFlight ? this.asked!.promise : undefined;
  }

  /** The pending request has its answer. */
  get answered(): boolean {
    return this.asked?.answer !== undefined;
  }

  /** Makes the next step ask again at once (after a failed request). */
  retryNow(): void {
    this.at = 0;
  }

  /**
   * Asks for the lease (takes or renews it) unless a request is in flight; the next
   * renewal falls due a third of the lease's time to live after this one was sent.
   */
  start(): void {
    if (this.asked !== undefined && this.asked.answer === undefined) return;
    this.at = this.clock.monotonic() + (this.leaseSeconds * 1000) / 3;
    const asked: Asked = { promise: Promise.resolve({ held: false }), answer: undefined };
    asked.promise = this.lease.tryAcquire().then(
      (held): LeaseAnswer => ({ held }),
      (error: unknown): LeaseAnswer => ({
        held: false,
        error: error instanceof Error ? error : new Error(String(error)),
      }),
    );
    void asked.promise.then((answer) => {
      asked.answer = answer;
      if (this.asked === asked) this.onAnswer(); // not when taken already
    });
    this.asked = asked;
  }

  /** Waits for the pending request's answer and forgets it; undefined when none is pending. */
  async take(): Promise<LeaseAnswer | undefined> {
    const asked = this.asked;
    this.asked = undefined;
    return asked?.promise;
  }

  /**
   * Waits for `work` (a batch in flight, a records write), renewing the lease whenever a
   * renewal falls due meanwhile. On a loaded machine or a slow database, such a wait can
   * outlast the lease's remaining time: without this, the fenced write of runs already
   * sent is refused and the beat steps down and loads every task again. Renews only a
   * lease still surely held, under the same token; never throws (a refused or failed
   * renewal stays pending for the loop's next step, which acts on it).
   */
  async during(work: Promise<unknown> | undefined): Promise<void> {
    if (work === undefined) return;
    let done = false;
    const finished = work.then(
      () => (done = true),
      () => (done = true),
    );
    while (!done) {
      const wait = this.at - this.clock.monotonic();
      if (wait > 0) {
        let cancel: (() => void) | undefined;
        await Promise.race([finished, new Promise<void>((resolve) => (cancel = this.clock.setTimer(wait, resolve)))]);
        cancel?.();
        continue;
      }
      const token = this.lease.token;
      if (token === null) return;
      this.start();
      const asked = this.asked!;
      // The work's end is not held up by the answer: a request sent beside the sending can
      // wait on a lock of the lease row (PostgreSQL) for as long as the lease lives.
      await Promise.race([finished, asked.promise]);
      const answer = asked.answer; // set by start()'s handler, which runs before this one
      if (answer === undefined) continue; // the work is done; the answer wakes the loop
      if (!answer.held || this.lease.token !== token) return;
      if (this.asked === asked) this.asked = undefined; // renewed under the same token: nothing for the loop to act on
    }
  }
}
