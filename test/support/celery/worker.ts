// Starts a real Celery 5 worker (Debian's python3-celery) on given queues, with
// the tasks of dbbeat_test_tasks.py, and reads back what it executed.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { killOnExit, registerProcessGroup } from '../cleanup.js';

/** One task execution, as dbbeat_test_tasks.py records it. */
export interface ExecutionRecord {
  id: string;
  task: string;
  /** null when they hold NaN or an infinity (see `typed`). */
  args: unknown[] | null;
  kwargs: Record<string, unknown> | null;
  routing_key: string | null;
  exchange: string | null;
  priority: number | null;
  periodic_task_name: string | null;
  dbbeat_scheduled_at: string | null;
  /** Header of a manual run (run now): who asked, or true. */
  dbbeat_manual_run: string | boolean | null;
  /** The message's eta (ISO), or null. */
  eta: string | null;
  expires: string | null;
  /** Unix time, seconds. */
  received_at: number;
  /** [args, kwargs] as [type, value] pairs (`['float', '1.0']`, `['int', '9007199254740993']`). */
  typed: unknown;
  /** Python's repr((args, kwargs)). */
  repr: string;
  argsrepr: string | null;
  kwargsrepr: string | null;
  /** The message headers whose names start with `x_`, typed like `typed`. */
  typed_headers: unknown;
}

export interface CeleryWorker {
  /** Warm shutdown (SIGTERM), SIGKILL to the process group after 10 s; removes the record file it created. */
  stop(): Promise<void>;
  records(): Promise<ExecutionRecord[]>;
  /** Resolves with all records once `until` holds (a count or a predicate); rejects after timeoutMs. */
  waitForRecords(
    until: number | ((records: ExecutionRecord[]) => boolean),
    timeoutMs: number,
  ): Promise<ExecutionRecord[]>;
  /** Resolves once the worker's log matches; rejects after timeoutMs. */
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Everything the worker logged so far. */
  log(): string;
  /** Whether the worker process is still running. */
  running(): boolean;
  /** The worker's node name (`-n`), as its events carry it in `hostname`. */
  readonly nodeName: string;
}

export interface CeleryWorkerOptions {
  brokerUrl: string;
  queues: string[];
  recordFile?: string;
  concurrency?: number;
  /** Celery's control_exchange (default `celery`): a pidbox of its own on a shared broker. */
  controlExchange?: string;
  /** How long to wait for "ready" (default 60 s: the machine is shared). */
  startTimeoutMs?: number;
  /**
   * Celery's result_backend for the worker (results are kept only with one): redis://…,
   * db+postgresql://…, db+mysql://…, or django-db with `resultsDatabaseUrl`. Default none.
   */
  resultBackend?: string;
  /** django-db: the Django database of django-celery-results (postgres://… or mysql://…). */
  resultsDatabaseUrl?: string;
  /** Celery's result_extended (the backend also keeps the worker, task name, args). Default false. */
  resultExtended?: boolean;
  /** Send task events (`-E`). Default false. */
  events?: boolean;
  /** Celery's event_exchange (default celeryev). */
  eventExchange?: string;
}

const TASKS_DIR = dirname(fileURLToPath(import.meta.url));

/** Spawns `python3 -m celery worker` and resolves once it logs that it is ready. */
export async function startCeleryWorker(options: CeleryWorkerOptions): Promise<CeleryWorker> {
  const ownsRecordFile = options.recordFile === undefined;
  const recordFile = options.recordFile ?? join(tmpdir(), `dbbeat-celery-${randomBytes(6).toString('hex')}.jsonl`);
  const concurrency = options.concurrency ?? 1;
  const nodeName = `dbbeat-test-${randomBytes(4).toString('hex')}@${hostname()}`;
  const args = [
    '-m',
    'celery',
    '-A',
    'dbbeat_test_tasks',
    'worker',
    '-Q',
    options.queues.join(','),
    '-n',
    nodeName,
    '--pool',
    concurrency > 1 ? 'threads' : 'solo',
    '--concurrency',
    String(concurrency),
    '--without-gossip',
    '--without-mingle',
    '--without-heartbeat',
    '-l',
    'info',
    ...(options.events === true ? ['-E'] : []),
  ];
  const child = spawn('/usr/bin/python3', args, {
    cwd: TASKS_DIR,
    detached: true, // own process group, so stop() reaches any children
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PYTHONPATH: TASKS_DIR,
      PYTHONUNBUFFERED: '1',
      DBBEAT_TEST_BROKER_URL: options.brokerUrl,
      DBBEAT_TEST_RECORD_FILE: recordFile,
      DBBEAT_TEST_CONTROL_EXCHANGE: options.controlExchange ?? '',
      ...(options.resultBackend !== undefined && { DBBEAT_TEST_RESULT_BACKEND: options.resultBackend }),
      ...(options.resultsDatabaseUrl !== undefined && { DBBEAT_TEST_RESULTS_DB_URL: options.resultsDatabaseUrl }),
      ...(options.resultExtended === true && { DBBEAT_TEST_RESULT_EXTENDED: '1' }),
      ...(options.eventExchange !== undefined && { DBBEAT_TEST_EVENT_EXCHANGE: options.eventExchange }),
    },
  });
  registerProcessGroup(child.pid);
  killOnExit(child, true);
  let output = '';
  const listeners = new Set<() => void>();
  const onOutput = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      for (const listener of listeners) listener();
      resolve();
    }),
  );

  const waitForLog = (pattern: RegExp, timeoutMs: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(output);
        if (match) return finish(() => resolve(match[0]));
        if (exited)
          finish(() => reject(new Error(`Celery worker exited before logging ${pattern}:\n${output.slice(-3000)}`)));
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new Error(`Celery worker did not log ${pattern} within ${timeoutMs} ms:\n${output.slice(-3000)}`)),
          ),
        timeoutMs,
      );
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });

  const records = async (): Promise<ExecutionRecord[]> => {
    const text = await readFile(recordFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    // Only whole lines: the worker may be writing the last one right now (a 200 kB arg is
    // written in several pieces).
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    return complete
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as ExecutionRecord);
  };

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited && child.pid !== undefined) {
        process.kill(-child.pid, 'SIGTERM');
        const killer = setTimeout(() => {
          if (!exited && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        }, 10_000);
        await exit;
        clearTimeout(killer);
      }
      if (ownsRecordFile) await rm(recordFile, { force: true });
    })();
    return stopping;
  };

  try {
    await waitForLog(/ ready\./, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    nodeName,
    stop,
    records,
    async waitForRecords(until, timeoutMs) {
      const done = typeof until === 'number' ? (r: ExecutionRecord[]) => r.length >= until : until;
      const deadline = Date.now() + timeoutMs;
      // The record file is written by another process; poll it briefly.
      for (;;) {
        const current = await records();
        if (done(current)) return current;
        if (Date.now() > deadline)
          throw new Error(`waited ${timeoutMs} ms for records; have ${current.length}:\n${output.slice(-3000)}`);
        if (exited) throw new Error(`Celery worker exited:\n${output.slice(-3000)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    waitForLog,
    log: () => output,
    running: () => !exited,
  };
}
