// Celery result backends as dbbeat reads them: which URL names which store, what one task's
// stored outcome looks like once read (TaskMeta), and opening a reader. The readers are
// result-backend-redis.ts (Celery's Redis backend) and result-backend-sql.ts
// (django-celery-results' table and Celery's SQLAlchemy celery_taskmeta), opened by
// openResultBackend (result-backend-open.ts). This file loads no driver.
import type { PyValue } from '../broker/pyjson.js';
import { redactUrl } from '../redact-url.js';

/**
 * One task's outcome as a Celery result backend stores it (Celery's "task meta":
 * backends/base.py `_get_result_meta`, read back by `_get_task_meta_for`).
 */
export interface TaskMeta {
  taskId: string;
  /** Celery's state as stored: STARTED, SUCCESS, FAILURE, RETRY, REVOKED or a custom state. */
  state: string;
  /**
   * The stored value: the return value on SUCCESS; on FAILURE, RETRY and REVOKED the
   * exception as Celery serializes it ({exc_type, exc_message, exc_module}); on STARTED
   * {pid, hostname}. undefined when the stored bytes are not plain data dbbeat can read (a
   * pickled Python object, or a serializer other than json and pickle).
   */
  result: PyValue | undefined;
  traceback: string | null;
  /** date_done, epoch ms (Celery writes it in UTC); null until the task is ready. */
  dateDone: number | null;
  /** The worker's hostname, where the backend keeps it (result_extended, or STARTED's meta). */
  worker: string | null;
}

/** A reader of one Celery result backend. */
export interface ResultBackend {
  /** The URL without its password, for logs. */
  readonly description: string;
  /**
   * The stored outcome of each of `taskIds` that has one, read in batches (Redis MGET, SQL
   * `task_id IN (…)`). Ids with nothing stored are absent: Celery calls them PENDING.
   */
  getMany(taskIds: readonly string[]): Promise<Map<string, TaskMeta>>;
  /** Closes the connections. */
  close(): Promise<void>;
}

/** Where a result backend URL points. */
export type ResultBackendSpec =
  | { kind: 'redis'; url: string }
  | {
      kind: 'sql';
      /** `django`: django_celery_results_taskresult; `celery`: Celery's SQLAlchemy celery_taskmeta. */
      table: 'django' | 'celery';
      dialect: 'postgres' | 'mysql';
      /** postgres://… or mysql://… as the drivers take it. */
      url: string;
    };

/** A result backend URL dbbeat cannot read; the CLI exits with code 2. */
export class ResultBackendUrlError extends Error {
  override readonly name = 'ResultBackendUrlError';
}

export const SUPPORTED_RESULT_BACKENDS =
  'redis://, rediss:// (Celery Redis backend), db+postgresql://, db+mysql:// (Celery celery_taskmeta), ' +
  'postgres://, mysql:// or django-db (django-celery-results)';

/**
 * Reads a result backend URL as Celery's `result_backend` setting names it:
 * - `redis://[:password@]host[:port][/db]`, `rediss://…` (TLS; `?ssl_cert_reqs=CERT_NONE`
 *   skips certificate checks as in Celery): Celery's Redis backend.
 * - `db+postgresql[+driver]://…`, `db+mysql[+driver]://…`: Celery's SQLAlchemy backend,
 *   table `celery_taskmeta`.
 * - `postgres://…`, `postgresql://…`, `mysql://…`, `mariadb://…`: the Django database of
 *   django-celery-results, table `django_celery_results_taskresult`.
 * - `django-db` (django-celery-results' own setting value): that table in `databaseUrl`,
 *   dbbeat's database (the Django database django-celery-beat's tables live in).
 * @throws ResultBackendUrlError for anything else (rpc://, cache+…, sqlite, django-db without a database URL)
 */
export function parseResultBackendUrl(url: string, databaseUrl?: string): ResultBackendSpec {
  if (url === 'django-db') {
    if (databaseUrl === undefined) {
      throw new ResultBackendUrlError(
        "result-backend django-db reads django-celery-results from dbbeat's database, but no --database-url is set (the embedded database has no such table)",
      );
    }
    return parseResultBackendUrl(databaseUrl);
  }
  const scheme = /^([a-z0-9+]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'redis' || scheme === 'rediss') return { kind: 'redis', url };
  const sqlalchemy = scheme?.startsWith('db+') === true;
  const dialectName = (sqlalchemy ? scheme.slice(3) : (scheme ?? '')).split('+')[0];
  const dialect =
    dialectName === 'postgres' || dialectName === 'postgresql'
      ? 'postgres'
      : dialectName === 'mysql' || dialectName === 'mariadb'
        ? 'mysql'
        : undefined;
  if (dialect !== undefined && (sqlalchemy || scheme === dialectName)) {
    const rest = url.slice(url.indexOf('://'));
    return { kind: 'sql', table: sqlalchemy ? 'celery' : 'django', dialect, url: `${dialect}${rest}` };
  }
  throw new ResultBackendUrlError(
    `result-backend: "${redactUrl(url)}" is not a result backend dbbeat reads; use ${SUPPORTED_RESULT_BACKENDS}`,
  );
}
