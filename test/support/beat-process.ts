// Beat processes for fault tests: spawn `dbbeat beat` as a child, capture its JSON log
// lines, wait for a line, kill it (SIGKILL, like a crash) and find the current leader.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/dbbeat.js', import.meta.url));

/** One pino log line of a beat (level 30 info, 40 warn, 50 error). */
export interface BeatLogLine {
  level: number;
  /** ISO time the line was written (this host's clock). */
  time: string;
  pid: number;
  msg: string;
  [field: string]: unknown;
}

export interface SpawnBeatOptions {
  databaseUrl: string;
  brokerUrl: string;
  /** --lease-seconds; the beat's default (5) when unset. */
  leaseSeconds?: number;
  /** --max-interval in seconds; default 1. */
  maxInterval?: number;
  /** Further `dbbeat beat` flags. */
  extraArgs?: string[];
  /** A name for messages (defaults to the pid). */
  label?: string;
}

export interface BeatExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Every beat spawned by this test process, so none outlives it (also on failure). */
const living = new Set<BeatProcess>();
process.once('exit', () => {
  for (const beat of living) beat.child.kill('SIGKILL');
});

/** A running `dbbeat beat` child process and what it has logged so far. */
export class BeatProcess {
  readonly lines: BeatLogLine[] = [];
  /** stderr and stdout lines that are not JSON (crash traces, tsx warnings). */
  readonly otherOutput: string[] = [];
  readonly exited: Promise<BeatExit>;
  readonly label: string;
  private exit: BeatExit | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly child: ChildProcess,
    label: string | undefined,
  ) {
    this.label = label ?? `beat ${child.pid}`;
    living.add(this);
    this.exited = new Promise<BeatExit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        living.delete(this);
        this.notify();
        resolve(this.exit);
      });
    });
    createInterface({ input: child.stdout! }).on('line', (text) => this.take(text));
    createInterface({ input: child.stderr! }).on('line', (text) => this.otherOutput.push(text));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** How it ended, once it has. */
  get exitStatus(): BeatExit | undefined {
    return this.exit;
  }

  /**
   * Resolves with the first line (at index `from` or later) that matches; rejects after
   * `timeoutMs` or when the process exits first.
   */
  waitForLine(predicate: (line: BeatLogLine) => boolean, timeoutMs: number, from = 0): Promise<BeatLogLine> {
    return new Promise((resolve, reject) => {
      let checked = from;
      const check = (): boolean => {
        for (; checked < this.lines.length; checked += 1) {
          const line = this.lines[checked]!;
          if (predicate(line)) {
            finish();
            resolve(line);
            return true;
          }
        }
        if (!this.alive) {
          finish();
          reject(new Error(`${this.label} exited (${JSON.stringify(this.exit)}) before the awaited log line`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${this.label}: no matching log line within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref(); // a wait that lost a race must not keep the test process alive
      const waiter = (): void => void check();
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      if (!check()) this.waiters.add(waiter);
    });
  }

  /** Sends a signal and waits until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<BeatExit> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM (a graceful stop); SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<BeatExit> {
    if (!this.alive) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private take(text: string): void {
    let line: BeatLogLine;
    try {
      line = JSON.parse(text) as BeatLogLine;
    } catch {
      this.otherOutput.push(text);
      return;
    }
    this.lines.push(line);
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Starts `node bin/dbbeat.js beat` against the given database and broker (no migration: the test migrates first). */
export function spawnBeat(options: SpawnBeatOptions): BeatProcess {
  const args = [
    bin,
    'beat',
    '--database-url',
    options.databaseUrl,
    '-b',
    options.brokerUrl,
    '--max-interval',
    String(options.maxInterval ?? 1),
    '-l',
    'INFO',
    '--no-migrate',
    ...(options.leaseSeconds !== undefined ? ['--lease-seconds', String(options.leaseSeconds)] : []),
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  return new BeatProcess(child, options.label);
}

/** SIGKILLs every beat this test process started that is still running. */
export async function killAllBeats(): Promise<void> {
  await Promise.all([...living].map((beat) => beat.kill('SIGKILL')));
}

/** The lease row as the database holds it. */
export interface LeaseRow {
  holder: string;
  /** The pid part of the holder ("host:pid:random"). */
  pid: number;
  token: number;
  expiresAt: Date;
  /** Whether it is still valid by the database's clock. */
  valid: boolean;
}

/** Reads the leader lease `name` (default "default") with any pg-like query function. */
export async function readLease(
  query: (sql: string, params: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>,
  name = 'default',
): Promise<LeaseRow | undefined> {
  const { rows } = await query(
    'SELECT holder, token::text AS token, expires_at, expires_at > now() AS valid FROM dbbeat_lease WHERE name = $1',
    [name],
  );
  const row = rows[0];
  if (!row) return undefined;
  const holder = String(row.holder);
  return {
    holder,
    pid: Number(holder.split(':').at(-2)),
    token: Number(row.token),
    expiresAt: row.expires_at as Date,
    valid: row.valid === true,
  };
}
