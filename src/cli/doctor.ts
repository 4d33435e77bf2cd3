import type { Command } from 'commander';

import { resolveConfig } from '../config.js';
import { join } from 'node:path';

import { defaultMigrationsDirectory, migrationStatus } from '../db/migrate.js';
import { inspectMysqlSchema } from '../db/mysql/schema-objects.js';
import { inspectPostgresSchema } from '../db/postgres/schema-objects.js';
import { describeObject } from '../db/schema-objects.js';
import { failureOf, openCheckedDatabase } from './failure.js';

interface DoctorCommandOptions {
  databaseUrl?: string;
  dataDir?: string;
}

/** `dbbeat doctor`: says what it checked of the database, and whether all is well. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      "check the database: migrations and their checksums, dbbeat's tables, triggers and functions, the leader lease; exit 0 when healthy, 1 when something is missing or edited, 2 when a setting is wrong (no such database, refused credentials)",
    )
    .option(
      '--database-url <url>',
      'postgres://, mysql:// or mariadb:// URL (default: $DATABASE_URL, else the embedded database)',
    )
    .option(
      '--data-dir <path>',
      'folder of the embedded database when no URL is given (env DBBEAT_DATA_DIR; default ./.dbbeat)',
    )
    .action(async (options: DoctorCommandOptions) => {
      process.exitCode = await runDoctor(options);
    });
}

/** One line per check: "ok", "MISSING" or "PROBLEM", then what, then details. */
async function runDoctor(options: DoctorCommandOptions): Promise<number> {
  let db;
  try {
    const { databaseUrl, dataDir } = resolveConfig({ databaseUrl: options.databaseUrl, dataDir: options.dataDir });
    db = await openCheckedDatabase({
      ...(databaseUrl !== undefined && { databaseUrl }),
      dataDir,
      log: (message) => console.error(message),
    });
  } catch (error) {
    // A setting that can never work (no such database, refused credentials, a bad value): 2.
    const failure = failureOf(error);
    console.log(`PROBLEM  database: cannot connect: ${failure.message}`);
    return failure.code;
  }
  let problems = 0;
  const line = (status: 'ok' | 'MISSING' | 'PROBLEM' | 'info', what: string) => {
    if (status === 'MISSING' || status === 'PROBLEM') problems += 1;
    console.log(`${status.padEnd(8)} ${what}`);
  };
  try {
    line('ok', `database: ${db.description}`);
    const mysql = db.kind === 'mysql';
    const migrations = await migrationStatus(
      db,
      ...(mysql ? [join(defaultMigrationsDirectory, 'mysql'), 'mysql' as const] : []),
    );
    for (const name of migrations.applied) {
      line(
        migrations.edited.includes(name) ? 'PROBLEM' : 'ok',
        `migration ${name}${migrations.edited.includes(name) ? ': edited since it was applied (checksum differs)' : ''}`,
      );
    }
    for (const name of migrations.pending) line('MISSING', `migration ${name}: not applied (run dbbeat migrate)`);
    for (const object of mysql ? await inspectMysqlSchema(db) : await inspectPostgresSchema(db)) {
      const where = `(from migrations/${object.migration}${object.essential ? '' : '; without it changes are not all noticed'})`;
      line(
        object.present ? 'ok' : 'MISSING',
        `${describeObject(object)}${object.detail ? ` (${object.detail})` : ''}${object.present ? '' : ` ${where}`}`,
      );
    }
    const lease = await db
      .query<{ name: string; holder: string; token: string; seconds_left: number }>(
        mysql
          ? `SELECT name, holder, CAST(token AS CHAR) AS token, TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), expires_at) / 1e6 AS seconds_left FROM dbbeat_lease ORDER BY name`
          : `SELECT name, holder, token::text AS token, extract(epoch FROM (expires_at - now()))::float8 AS seconds_left FROM dbbeat_lease ORDER BY name`,
      )
      .catch(() => []);
    if (lease.length === 0) line('info', 'leader lease: none taken yet');
    for (const row of lease) {
      line(
        'info',
        `leader lease ${row.name}: ${row.seconds_left > 0 ? `held by ${row.holder} (token ${row.token}, ${row.seconds_left.toFixed(1)} s left)` : `free (last holder ${row.holder}, token ${row.token})`}`,
      );
    }
    const sentAt = Date.now();
    const [clock] = await db.query<{ ms: number }>(
      mysql
        ? `SELECT UNIX_TIMESTAMP(SYSDATE(6)) * 1000 AS ms`
        : `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms`,
    );
    const offset = Math.round(Number(clock!.ms) - (sentAt + Date.now()) / 2);
    line('info', `database clock: ${offset} ms from this host's (beat schedules by the database's clock)`);
    console.log(problems === 0 ? 'healthy' : `${problems} problem(s): run dbbeat migrate to apply and repair`);
    return problems === 0 ? 0 : 1;
  } catch (error) {
    console.log(`PROBLEM  ${messageOf(error)}`);
    return 1;
  } finally {
    await db.close();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
