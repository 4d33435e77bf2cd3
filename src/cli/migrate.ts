import type { Command } from 'commander';

import { OptionsError, resolveConfig } from '../config.js';

interface MigrateCommandOptions {
  databaseUrl?: string;
  dataDir?: string;
}

/** `dbbeat migrate`: creates or adopts django-celery-beat's tables and adds dbbeat's own. */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description("create django-celery-beat's tables (or adopt existing ones) and dbbeat's triggers and tables")
    .option('--database-url <url>', 'postgres://, mysql:// or mariadb:// URL (default: $DATABASE_URL, else the embedded database)')
    .option('--data-dir <path>', 'folder of the embedded database when no URL is given (env DBBEAT_DATA_DIR; default ./.dbbeat)')
    .action(async (options: MigrateCommandOptions) => {
      process.exitCode = await runMigrate(options);
    });
}

async function runMigrate(options: MigrateCommandOptions): Promise<number> {
  // Loaded here, not at the top, so that `dbbeat --help` stays light.
  const { migrate, openDatabase } = await import('../db/open.js');
  let config;
  try {
    config = resolveConfig({ databaseUrl: options.databaseUrl, dataDir: options.dataDir });
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    console.error(`dbbeat migrate: ${error.message}`);
    return 2;
  }
  const { databaseUrl, dataDir } = config;
  let db;
  try {
    db = await openDatabase({ ...(databaseUrl !== undefined && { databaseUrl }), dataDir, log: (message) => console.error(message) });
  } catch (error) {
    console.error(`dbbeat migrate: cannot open the database: ${messageOf(error)}`);
    return 1;
  }
  try {
    const { applied } = await migrate(db, { log: (message) => console.log(message) });
    console.log(applied.length === 0 ? `${db.description}: up to date` : `${db.description}: applied ${applied.length} migration(s)`);
    return 0;
  } catch (error) {
    console.error(`dbbeat migrate: ${db.description}: ${messageOf(error)}`);
    return 1;
  } finally {
    await db.close();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
