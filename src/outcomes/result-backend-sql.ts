// The database result backends, read:
// - django-celery-results (models.py TaskResult, table django_celery_results_taskresult):
//   task_id, status, result (text in content_type/content_encoding: JSON, or base64 when
//   the encoding is 'binary', e.g. pickle), date_done, traceback, worker (result_extended).
// - Celery's SQLAlchemy backend (backends/database/models.py Task, table celery_taskmeta):
//   task_id, status, result (PickleType: pickle.dumps of the stored value), date_done
//   (naive UTC, datetime.utcnow), traceback.
// date_done is read as epoch ms in the database itself on PostgreSQL (EXTRACT(EPOCH …)
// reads a naive timestamp as UTC) and as text read as UTC on MySQL/MariaDB (Django's
// USE_TZ = True stores UTC; so does SQLAlchemy's utcnow).
import { poolConfigOf } from '../db/mysql/pool-config.js';
import { redactUrl } from '../redact-url.js';
import type { ResultBackend, ResultBackendSpec, TaskMeta } from './result-backend.js';
import { decodeStored, parseDateDone, workerOfStarted } from './result-backend-meta.js';

/**
 * The backend's table is not in its database: django-celery-results is not migrated there
 * (`manage.py migrate django_celery_results`), or no worker has stored a result yet
 * (Celery's SQLAlchemy backend creates celery_taskmeta on its first write). The message
 * names the table, the database (no password) and the fix.
 */
export class ResultTableMissingError extends Error {
  override readonly name = 'ResultTableMissingError';
  constructor(
    /** The table that does not exist. */
    readonly table: string,
    /** The backend's URL without its password. */
    readonly where: string,
    options: { cause: unknown },
  ) {
    super(
      table === 'django_celery_results_taskresult'
        ? `table ${table} does not exist in ${where}: install django-celery-results in the Django project on that database and run \`python manage.py migrate django_celery_results\`, or point --result-backend at the backend the workers write to (Celery's result_backend)`
        : `table ${table} does not exist in ${where}: Celery's database backend creates it when a worker stores its first result; check that the workers' result_backend is this database`,
      options,
    );
  }
}

/** PostgreSQL's undefined_table, MySQL/MariaDB's ER_NO_SUCH_TABLE. */
function isMissingTable(error: unknown): boolean {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; errno?: unknown };
  return fields.code === '42P01' || fields.errno === 1146;
}

/** Task ids per statement. */
const SELECT_BATCH = 500;

type SqlSpec = Extract<ResultBackendSpec, { kind: 'sql' }>;

/** A row as the statements below return it. */
interface ResultRow {
  task_id: string;
  status: string;
  result: string | Buffer | null;
  content_encoding?: string | null;
  traceback: string | null;
  worker?: string | null;
  /** PostgreSQL: epoch ms (float8); MySQL: DATETIME text. */
  date_done: number | string | null;
}

/**
 * The read of each table on each dialect, for a list of task ids.
 * PostgreSQL: $1 text[] task ids. MySQL: ? a list of task ids (expanded by the driver).
 */
const STATEMENTS = {
  postgres: {
    django: `SELECT task_id, status, result, content_encoding, traceback, worker,
       EXTRACT(EPOCH FROM date_done)::float8 * 1000 AS date_done
FROM django_celery_results_taskresult WHERE task_id = ANY($1::text[])`,
    celery: `SELECT task_id, status, result, traceback, EXTRACT(EPOCH FROM date_done)::float8 * 1000 AS date_done
FROM celery_taskmeta WHERE task_id = ANY($1::text[])`,
  },
  mysql: {
    django: `SELECT task_id, status, result, content_encoding, traceback, worker, CAST(date_done AS CHAR) AS date_done
FROM django_celery_results_taskresult WHERE task_id IN (?)`,
    celery: `SELECT task_id, status, result, traceback, CAST(date_done AS CHAR) AS date_done
FROM celery_taskmeta WHERE task_id IN (?)`,
  },
} as const;

/** One backend's connection pool, behind its dialect's driver. */
interface SqlPool {
  query(ids: readonly string[]): Promise<ResultRow[]>;
  end(): Promise<void>;
}

async function openPool(spec: SqlSpec): Promise<SqlPool> {
  const sql = STATEMENTS[spec.dialect][spec.table];
  if (spec.dialect === 'postgres') {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: spec.url, max: 2, connectionTimeoutMillis: 5000 });
    // A dropped idle connection is replaced on next use; the failed query reports it.
    pool.on('error', () => {});
    return { query: async (ids) => (await pool.query<ResultRow>(sql, [ids])).rows, end: () => pool.end() };
  }
  const { default: mariadb } = await import('mariadb');
  const pool = mariadb.createPool({
    ...poolConfigOf(spec.url),
    connectionLimit: 2,
    dateStrings: true,
    acquireTimeout: 5000,
  });
  return { query: (ids) => pool.query<ResultRow[]>(sql, [ids]), end: () => pool.end() };
}

/** Reads task meta from django-celery-results' table or Celery's celery_taskmeta. */
export class SqlResultBackend implements ResultBackend {
  readonly description: string;
  private readonly query: (ids: readonly string[]) => Promise<ResultRow[]>;
  private readonly end: () => Promise<void>;

  constructor(private readonly spec: SqlSpec) {
    const table = spec.table === 'django' ? 'django_celery_results_taskresult' : 'celery_taskmeta';
    this.description = `${redactUrl(spec.url)} (${table})`;
    // The driver is loaded on first use: a beat that never reads this backend loads none.
    let pool: Promise<SqlPool> | undefined;
    const connect = () => (pool ??= openPool(spec));
    this.query = async (ids) => {
      try {
        return await (await connect()).query(ids);
      } catch (error) {
        if (isMissingTable(error)) throw new ResultTableMissingError(table, redactUrl(spec.url), { cause: error });
        throw error;
      }
    };
    this.end = async () => {
      if (pool !== undefined) await (await pool).end();
    };
  }

  async getMany(taskIds: readonly string[]): Promise<Map<string, TaskMeta>> {
    const found = new Map<string, TaskMeta>();
    for (let start = 0; start < taskIds.length; start += SELECT_BATCH) {
      for (const row of await this.query(taskIds.slice(start, start + SELECT_BATCH))) {
        found.set(row.task_id, this.metaOf(row));
      }
    }
    return found;
  }

  private metaOf(row: ResultRow): TaskMeta {
    const result = row.result === null ? null : decodeStored(this.bytesOf(row.result, row.content_encoding));
    return {
      taskId: row.task_id,
      state: row.status,
      result,
      // django-celery-results writes '' where there is none.
      traceback: row.traceback || null,
      dateDone: typeof row.date_done === 'number' ? Math.round(row.date_done) : parseDateDone(row.date_done),
      worker: row.worker || workerOfStarted(row.status, result),
    };
  }

  /** django-celery-results keeps binary content (pickle) base64-encoded in a text column. */
  private bytesOf(value: string | Buffer, encoding: string | null | undefined): string | Buffer {
    if (this.spec.table === 'django' && encoding === 'binary' && typeof value === 'string') {
      return Buffer.from(value, 'base64');
    }
    return value;
  }

  async close(): Promise<void> {
    await this.end();
  }
}
