// The beat's typed lifecycle events: for logs, metrics and tests alike.

export interface BeatEvents {
  /** The first full load is done (leader) or the process is standing by. */
  ready: [{ role: 'leader' | 'standby'; tasks: number; invalid: number }];
  leader: [{ token: string }];
  standby: [{ reason: string }];
  /**
   * A batch went to the broker and was recorded: `sent` runs accepted, `duplicates` dropped
   * by the broker as already sent, `failed` whose message failed alone (not built, or
   * refused), `skipped` past the starting deadline. `runs` lists the runs sent (not the
   * duplicates), for metrics: one entry per run, built once per batch.
   */
  sent: [{ sent: number; duplicates: number; failed: number; skipped: number; runs: readonly SentRun[] }];
  /** The broker did not take a batch: its `runs` go back to their slots and are sent again. */
  sendFailed: [{ runs: number; error: Error }];
  /**
   * A look at the lease (a leader renews it every third of --lease-seconds, a standby
   * tries to take it every second): `held` by this process afterwards, `wasLeader` before;
   * `error` when the database did not answer.
   */
  lease: [{ held: boolean; wasLeader: boolean; error?: Error }];
  /**
   * Changes read from the change log: `tasks` reloaded or removed, and the age of the
   * oldest change read (ms from its write to now, by the database's clock; null when the
   * database does not tell).
   */
  changes: [{ tasks: number; oldestAgeMs: number | null }];
  /**
   * The leader finished a step and sleeps until `wakeAt` (epoch ms, by the beat's clock)
   * unless a change or stop() wakes it first. `nextRunAt` is the earliest scheduled run.
   */
  idle: [{ wakeAt: number; nextRunAt: number | null }];
  /** A task row that cannot be scheduled (reported once per distinct problem). */
  invalid: [{ id: number; name: string; problem: string }];
  /** A run whose message failed alone (reported once per distinct reason); its task retries on its own. */
  runFailed: [{ id: number; name: string; reason: string; retryInMs: number }];
  /**
   * A failed step; the loop retries with backoff. (Not named 'error': an EventEmitter
   * throws an 'error' event nobody listens to, and a failed step must never crash the beat.)
   */
  failure: [Error];
}

/** One run the broker accepted. */
export interface SentRun {
  /** The periodic task's name. */
  name: string;
  /** The queue its message was routed to (Celery's routing of the task). */
  queue: string;
  /** Sent minus scheduled, ms. */
  lateMs: number;
}

/** Emits one of the beat's events; the parts of the beat get this rather than the emitter. */
export type Emit = <E extends keyof BeatEvents>(event: E, ...args: BeatEvents[E]) => void;
