// How the commands that open the database (and, for some, the broker) end on a failure,
// by the one exit-code rule (README, "Exit codes"): a setting that can never work (a
// database that does not exist, refused credentials, an unsupported URL, an unknown broker
// scheme) is exit code 2 with one line naming the setting, as `dbbeat beat` and `dbbeat
// migrate` do; anything else is a failure at run time, exit code 1.
import { describeTransient, permanentFailure } from '../beat/failures.js';
import { OptionsError } from '../config.js';
import { type OpenDatabase, type OpenDatabaseOptions, openDatabase } from '../db/open.js';
import { EXIT_FAILURE, EXIT_USAGE } from './exit-codes.js';

/** A failure of one step (opening the database, connecting the broker), with the URL it used. */
export class StepFailure extends Error {
  override readonly name = 'StepFailure';
  constructor(
    /** `database` or `broker`. */
    readonly step: 'database' | 'broker',
    /** The URL that step used (undefined: the embedded database). */
    readonly url: string | undefined,
    options: { cause: unknown },
  ) {
    super(options.cause instanceof Error ? options.cause.message : String(options.cause), options);
  }
}

/**
 * Runs a step; its failure becomes a StepFailure naming the step and its URL.
 * @throws StepFailure
 */
export async function step<T>(
  which: 'database' | 'broker',
  url: string | undefined,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new StepFailure(which, url, { cause: error });
  }
}

/**
 * The line to print (without the command's prefix) and the exit code of a failure: 2 with
 * the setting named when no retry can mend it, else 1 (a step's transient failure in words,
 * with host and port; any other error with its message).
 */
export function failureOf(
  error: unknown,
  /** The database URL the command used (undefined: the embedded database), for errors outside a step. */
  databaseUrl?: string,
): { message: string; code: number } {
  if (error instanceof OptionsError) return { message: error.message, code: EXIT_USAGE };
  if (error instanceof StepFailure) {
    const permanent = permanentFailure(error.cause, error.step, error.url);
    if (permanent) return { message: permanent.message, code: EXIT_USAGE };
    return { message: describeTransient(error.cause, error.step, error.url), code: EXIT_FAILURE };
  }
  const listen = listenFailure(error);
  if (listen !== undefined) return { message: listen, code: EXIT_USAGE };
  const permanent = permanentFailure(error, 'database', databaseUrl);
  if (permanent) return { message: permanent.message, code: EXIT_USAGE };
  if (isMissingTable(error)) {
    // mariadb's message carries the statement too; its sqlMessage is the server's one line.
    const { sqlMessage } = error as { sqlMessage?: unknown };
    const reason = typeof sqlMessage === 'string' ? sqlMessage : String((error as Error).message).split('\n')[0];
    return {
      message: `database-url: a table dbbeat needs is missing (${reason}): run \`dbbeat migrate\` with the same --database-url first`,
      code: EXIT_USAGE,
    };
  }
  return { message: error instanceof Error ? error.message : String(error), code: EXIT_FAILURE };
}

/** The console's --http address cannot be listened on: taken, or a port this user may not open. */
function listenFailure(error: unknown): string | undefined {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    syscall?: unknown;
    address?: unknown;
    port?: unknown;
  };
  if (fields.syscall !== 'listen') return undefined;
  const where = `${String(fields.address)}:${String(fields.port)}`;
  if (fields.code === 'EADDRINUSE') return `http: ${where} is already in use by another process (EADDRINUSE)`;
  if (fields.code === 'EACCES')
    return `http: this user may not listen on ${where} (EACCES: ports below 1024 need privileges)`;
  if (fields.code === 'EADDRNOTAVAIL') return `http: ${where} is not an address of this machine (EADDRNOTAVAIL)`;
  return undefined;
}

/** PostgreSQL's undefined_table, MySQL/MariaDB's ER_NO_SUCH_TABLE, Prisma's P2021 (table does not exist). */
function isMissingTable(error: unknown): boolean {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; errno?: unknown };
  return fields.code === '42P01' || fields.errno === 1146 || fields.code === 'P2021';
}

/**
 * Opens the database and asks it one query, where a missing database or refused
 * credentials show (a pool connects lazily).
 * @throws StepFailure (step `database`)
 */
export function openCheckedDatabase(options: OpenDatabaseOptions): Promise<OpenDatabase> {
  return step('database', options.databaseUrl, async () => {
    const db = await openDatabase(options);
    try {
      await db.query('SELECT 1');
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
    return db;
  });
}
