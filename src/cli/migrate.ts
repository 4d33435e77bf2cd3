import type { Command } from 'commander';

import { resolveConfig } from '../config.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { describeObject } from '../db/schema-objects.js';

interface MigrateCommandOptions {
  databaseUrl?: string;
  dataDir?: string;
}

/** `dbbeat migrate`: creates or adopts django-celery-beat's tables and adds dbbeat's own. */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description("create django-celery-beat's tables (or adopt existing ones) and dbbeat's triggers and tables")
    .option(
      '--database-url <url>',
      'postgres://, mysql:// or mariadb:// URL (default: $DATABASE_URL, else the embedded database)',
    )
    .option(
      '--data-dir <path>',
      'folder of the embedded database when no URL is given (env DBBEAT_DATA_DIR; default ./.dbbeat)',
    )
    .action(async (options: MigrateCommandOptions) => {
      process.exitCode = await runMigrate(options);
    });
}

async function runMigrate(options: MigrateCommandOptions): Promise<number> {
  // Loaded here, not at the top, so that `dbbeat --help` stays light.
  const { migrate, openDatabase } = await import('../db/open.js');
  const { describeTransient, permanentFailure } = await import('../beat/failures.js');
  let databaseUrl: string | undefined;
  let dataDir: string;
  try {
    ({ databaseUrl, dataDir } = resolveConfig({ databaseUrl: options.databaseUrl, dataDir: options.dataDir }));
  } catch (error) {
    console.error(`dbbeat migrate: ${messageOf(error)}`);
    return EXIT_USAGE;
  }
  /** One line for a failure, and the exit code the rule gives it (2: settings, 1: run time). */
  const fail = (error: unknown, what: string): number => {
    const permanent = permanentFailure(error, what, databaseUrl);
    console.error(`dbbeat migrate: ${permanent ? permanent.message : describeTransient(error, what, databaseUrl)}`);
    return permanent ? EXIT_USAGE : EXIT_FAILURE;
  };
  let db;
  try {
    db = await openDatabase({
      ...(databaseUrl !== undefined && { databaseUrl }),
      dataDir,
      log: (message) => console.error(message),
    });
  } catch (error) {
    return fail(error, 'database');
  }
  try {
    const { applied, repaired, missing } = await migrate(db, { log: (message) => console.log(message) });
    const done = [
      ...(applied.length > 0 ? [`applied ${applied.length} migration(s)`] : []),
      ...(repaired.length > 0 ? [`repaired ${repaired.length} missing object(s)`] : []),
    ];
    console.log(`${db.description}: ${done.length === 0 ? 'up to date, every object present' : done.join(', ')}`);
    if (missing.length > 0) {
      console.error(
        `dbbeat migrate: ${db.description}: still missing after the repair: ${missing.map(describeObject).join(', ')}`,
      );
      return EXIT_FAILURE;
    }
    return EXIT_OK;
  } catch (error) {
    return fail(error, 'migrate');
  } finally {
    await db.close().catch(() => undefined);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
