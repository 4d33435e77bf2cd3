// The beat's typed lifecycle events: for logs, metrics and tests alike.

export interface BeatEvents {
  /** The first full load is done (leader) or the process is standing by. */
  ready: [{ role: 'leader' | 'standby'; tasks: number; invalid: number }];
  leader: [{ token: string }];
  standby: [{ reason: string }];
  /** A batch went to the broker and was recorded. */
  sent: [{ sent: number; duplicates: number; failed: number }];
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

/** Emits one of the beat's events; the parts of the beat get this rather than the emitter. */
export type Emit = <E extends keyof BeatEvents>(event: E, ...args: BeatEvents[E]) => void;
