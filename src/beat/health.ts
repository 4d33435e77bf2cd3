// Whether a running beat is ready (GET /readyz): it leads, or it stands by while another
// beat holds a live lease; and its broker and database answer now, each within a short
// timeout. Also sets the broker-up and database-up metrics.
import type { Broker } from '../broker/types.js';
import type { OpenDatabase } from '../db/open.js';
import type { Metrics } from '../outcomes/metrics.js';
import type { BeatEvents } from './events.js';
import type { Beat } from './loop.js';

/** How long each of the broker and the database has to answer a readiness check, ms. */
export const CHECK_TIMEOUT_MS = 750;

/** One thing readiness depends on. */
export interface Check {
  ok: boolean;
  /** What was found, or why it failed. */
  detail: string;
}

/** The answer of /readyz. */
export interface Readiness {
  ready: boolean;
  /** 'starting': still connecting, or no look at the lease yet. */
  role: 'leader' | 'standby' | 'starting';
  /** Names of the checks that failed. */
  failed: ('lease' | 'broker' | 'database')[];
  checks: { lease: Check; broker: Check; database: Check };
}

/**
 * Readiness of one beat. Created before the beat connects (it answers "starting" until
 * `attach`), fed by the beat's `lease` events.
 */
export class BeatHealth {
  private parts: { beat: Beat; broker: Pick<Broker, 'ping'>; database: Pick<OpenDatabase, 'query'> } | undefined;
  private lastLease: { at: number; held: boolean; error: Error | undefined } | undefined;
  private checking: Promise<Readiness> | undefined;

  constructor(
    /** The lease's time to live (--lease-seconds), seconds. */
    private readonly leaseSeconds: number,
    /** Set with the broker and database checks when given. */
    private readonly metrics?: Metrics,
    /** Monotonic ms. */
    private readonly now: () => number = () => performance.now(),
    private readonly timeoutMs = CHECK_TIMEOUT_MS,
  ) {}

  /** The beat is connected: follow its lease, and check its broker and database. */
  attach(beat: Beat, broker: Pick<Broker, 'ping'>, database: Pick<OpenDatabase, 'query'>): void {
    this.parts = { beat, broker, database };
    beat.on('lease', ({ held, error }: BeatEvents['lease'][0]) => {
      this.lastLease = { at: this.now(), held, error };
    });
  }

  /** Checks now (concurrent callers share one check). Never rejects. */
  check(): Promise<Readiness> {
    this.checking ??= this.checkNow().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkNow(): Promise<Readiness> {
    const parts = this.parts;
    if (parts === undefined) {
      const connecting: Check = { ok: false, detail: 'the beat is connecting' };
      return report('starting', { lease: connecting, broker: connecting, database: connecting });
    }
    const [broker, database] = await Promise.all([
      this.probe(() => parts.broker.ping()),
      this.probe(() => parts.database.query('SELECT 1')),
    ]);
    this.metrics?.brokerUp(broker.ok);
    this.metrics?.databaseUp(database.ok);
    const { role, lease } = this.leaseCheck(parts.beat);
    return report(role, { lease, broker, database });
  }

  private leaseCheck(beat: Beat): { role: Readiness['role']; lease: Check } {
    const last = this.lastLease;
    if (last === undefined) return { role: 'starting', lease: { ok: false, detail: 'no look at the lease yet' } };
    // A leader renews every third of the time to live, a standby looks every second: a
    // look older than two lives means the beat's loop is stuck (or waits for a schema).
    const ageMs = this.now() - last.at;
    const role = beat.isLeader ? 'leader' : 'standby';
    if (ageMs > 2 * this.leaseSeconds * 1000 + 1000) {
      return { role, lease: { ok: false, detail: `the beat has not looked at the lease for ${Math.round(ageMs)} ms` } };
    }
    if (last.error !== undefined) {
      return { role, lease: { ok: false, detail: `the last look at the lease failed: ${last.error.message}` } };
    }
    if (beat.isLeader) return { role, lease: { ok: true, detail: 'this beat holds the lease' } };
    if (!last.held) return { role, lease: { ok: true, detail: 'standing by: another beat holds a live lease' } };
    return { role, lease: { ok: false, detail: 'stepped down; taking the lease again' } };
  }

  /** Runs `attempt` with the timeout; a failure or a timeout is a failed check naming it. */
  private async probe(attempt: () => Promise<unknown>): Promise<Check> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    const started = this.now();
    try {
      await Promise.race([attempt(), timeout]);
      return { ok: true, detail: `answered in ${Math.round(this.now() - started)} ms` };
    } catch (error) {
      return { ok: false, detail: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}

function report(role: Readiness['role'], checks: Readiness['checks']): Readiness {
  const failed = (Object.keys(checks) as (keyof Readiness['checks'])[]).filter((name) => !checks[name].ok);
  return { ready: failed.length === 0, role, failed, checks };
}
