// asyncResult(taskId): the counterpart of Celery's celery.result.AsyncResult, read from a
// result backend dbbeat knows (result-backend.ts): state, result, traceback, and get(),
// which waits for the task to be ready and throws its exception if it failed.
import { PyDict, PyNumber, type PyValue } from '../broker/pyjson.js';
import type { ResultBackend, TaskMeta } from './result-backend.js';
import { openResultBackend } from './result-backend-open.js';
import { exceptionOf } from './result-backend-meta.js';

/** Celery's states (celery/states.py); a task may also set a custom one with update_state. */
export type CeleryState =
  'PENDING' | 'RECEIVED' | 'STARTED' | 'SUCCESS' | 'FAILURE' | 'RETRY' | 'REVOKED' | (string & NonNullable<unknown>);

/** Celery's READY_STATES: the task will not change any more. */
const READY_STATES: ReadonlySet<string> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);
/** Celery's PROPAGATE_STATES: get() raises the stored exception. */
const PROPAGATE_STATES: ReadonlySet<string> = new Set(['FAILURE', 'REVOKED']);

/**
 * The task failed (FAILURE) or was revoked (REVOKED): what Celery's AsyncResult.get()
 * re-raises, as data. `exceptionType` is the Python class name (`ValueError`,
 * `TaskRevokedError`), `exceptionModule` its module when stored (`builtins`).
 */
export class TaskFailedError extends Error {
  override readonly name = 'TaskFailedError';
  constructor(
    readonly taskId: string,
    readonly state: CeleryState,
    readonly exceptionType: string,
    readonly exceptionModule: string | null,
    readonly exceptionMessage: string,
    readonly traceback: string | null,
  ) {
    super(`task ${taskId} ${state === 'REVOKED' ? 'was revoked' : 'failed'}: ${exceptionType}: ${exceptionMessage}`);
  }
}

/** get() waited `timeoutMs` without the task becoming ready (Celery's celery.exceptions.TimeoutError). */
export class ResultTimeoutError extends Error {
  override readonly name = 'ResultTimeoutError';
  constructor(
    readonly taskId: string,
    readonly timeoutMs: number,
    /** The last state read (PENDING for an id the backend does not know). */
    readonly state: CeleryState,
  ) {
    super(`task ${taskId} not ready within ${timeoutMs} ms (state ${state})`);
  }
}

export interface AsyncResultOptions {
  /**
   * The result backend: a URL as `--result-backend` takes it (redis://…, db+postgresql://…,
   * postgres://… for django-celery-results …), or a reader from openResultBackend to share
   * one connection between results. With a URL each call opens and closes its own connection.
   * Default: the environment's CELERY_RESULT_BACKEND.
   */
  backend?: string | ResultBackend;
  /** dbbeat's database, for the backend URL `django-db`. Default: DATABASE_URL. */
  databaseUrl?: string;
}

export interface GetOptions {
  /** Give up after this many ms with ResultTimeoutError. Default: wait for ever (Celery's timeout=None). */
  timeoutMs?: number;
  /** Between reads, ms. Default 500 (Celery's interval=0.5). */
  intervalMs?: number;
  /** false: return a failed task's exception (TaskFailedError) instead of throwing it. Default true. */
  propagate?: boolean;
}

/**
 * A task's result, read from a Celery result backend: the TypeScript counterpart of Celery's
 * `AsyncResult` (celery/result.py). Celery's properties are async methods here, since each
 * reads the backend: `await r.state()` for `r.state`, `await r.result()` for `r.result`.
 * Like Celery, an id the backend does not know reads as PENDING. A ready outcome is kept
 * after the first read (Celery caches it too); anything else is read anew each call.
 */
export class AsyncResult {
  private ready_: TaskMeta | undefined;

  constructor(
    /** The Celery task id. */
    readonly id: string,
    private readonly options: AsyncResultOptions = {},
  ) {}

  /** The stored meta as read (values as Python holds them), or a PENDING one when nothing is stored. */
  async meta(): Promise<TaskMeta> {
    return this.withBackend((backend) => this.read(backend));
  }

  /** Celery's AsyncResult.state: PENDING, STARTED, SUCCESS, FAILURE, RETRY, REVOKED or a custom state. */
  async state(): Promise<CeleryState> {
    return (await this.meta()).state;
  }

  /**
   * Celery's AsyncResult.result: the return value on SUCCESS (JSON-like: ints beyond 2^53 lose
   * digits, see meta() for the exact values), the exception as a TaskFailedError on FAILURE,
   * REVOKED and RETRY, STARTED's {pid, hostname}, null while PENDING.
   */
  async result(): Promise<unknown> {
    return valueOf(await this.meta());
  }

  /** Celery's AsyncResult.traceback: the failed task's traceback text, else null. */
  async traceback(): Promise<string | null> {
    return (await this.meta()).traceback;
  }

  /** Whether the task has finished: SUCCESS, FAILURE or REVOKED (Celery's ready()). */
  async ready(): Promise<boolean> {
    return READY_STATES.has(await this.state());
  }

  /** Celery's successful(): state is SUCCESS. */
  async successful(): Promise<boolean> {
    return (await this.state()) === 'SUCCESS';
  }

  /** Celery's failed(): state is FAILURE. */
  async failed(): Promise<boolean> {
    return (await this.state()) === 'FAILURE';
  }

  /**
   * Celery's AsyncResult.get(): waits until the task is ready, reading every `intervalMs`.
   * @returns the return value (as result())
   * @throws TaskFailedError on FAILURE or REVOKED (unless propagate is false)
   * @throws ResultTimeoutError when timeoutMs passes first
   */
  async get(options: GetOptions = {}): Promise<unknown> {
    const { timeoutMs, intervalMs = 500, propagate = true } = options;
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    return this.withBackend(async (backend) => {
      for (;;) {
        const meta = await this.read(backend);
        if (READY_STATES.has(meta.state)) {
          const value = valueOf(meta);
          if (propagate && PROPAGATE_STATES.has(meta.state)) throw value as TaskFailedError;
          return value;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new ResultTimeoutError(this.id, timeoutMs ?? 0, meta.state);
        await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
      }
    });
  }

  private async read(backend: ResultBackend): Promise<TaskMeta> {
    if (this.ready_) return this.ready_;
    const meta = (await backend.getMany([this.id])).get(this.id) ?? {
      taskId: this.id,
      state: 'PENDING',
      result: null,
      traceback: null,
      dateDone: null,
      worker: null,
    };
    if (READY_STATES.has(meta.state)) this.ready_ = meta;
    return meta;
  }

  private async withBackend<T>(use: (backend: ResultBackend) => Promise<T>): Promise<T> {
    if (this.ready_) return use(NO_BACKEND);
    const given = this.options.backend ?? process.env.CELERY_RESULT_BACKEND;
    if (given === undefined || given === '') {
      throw new TypeError('asyncResult: no result backend (pass { backend } or set CELERY_RESULT_BACKEND)');
    }
    if (typeof given !== 'string') return use(given);
    const backend = openResultBackend(given, { databaseUrl: this.options.databaseUrl ?? process.env.DATABASE_URL });
    try {
      return await use(backend);
    } finally {
      await backend.close();
    }
  }
}

/** Stands in for a backend once the outcome is kept: never read. */
const NO_BACKEND: ResultBackend = {
  description: 'none',
  getMany: () => Promise.reject(new Error('no backend')),
  close: () => Promise.resolve(),
};

/**
 * The result of a Celery task by id, read from a result backend: Celery's
 * `AsyncResult(task_id)` / `app.AsyncResult(task_id)`.
 * @example
 *   const value = await asyncResult(id, { backend: 'redis://127.0.0.1:6379/1' }).get({ timeoutMs: 10_000 });
 */
export function asyncResult(taskId: string, options: AsyncResultOptions = {}): AsyncResult {
  return new AsyncResult(taskId, options);
}

function valueOf(meta: TaskMeta): unknown {
  if (meta.state === 'FAILURE' || meta.state === 'REVOKED' || meta.state === 'RETRY') {
    const exception = exceptionOf(meta);
    return new TaskFailedError(
      meta.taskId,
      meta.state,
      exception?.type ?? 'Exception',
      exception?.module ?? null,
      exception?.message ?? '',
      meta.traceback,
    );
  }
  return meta.result === undefined ? undefined : plain(meta.result);
}

/** A Python value as JSON.parse would give it (numbers as JS numbers, dicts as objects). */
function plain(value: PyValue): unknown {
  if (value instanceof PyNumber) return value.value;
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof PyDict) {
    const object: Record<string, unknown> = {};
    for (const [k, v] of value.entries)
      Object.defineProperty(object, k, { value: plain(v), enumerable: true, writable: true, configurable: true });
    return object;
  }
  return value;
}
