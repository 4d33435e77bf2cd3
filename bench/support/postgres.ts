// Throwaway PostgreSQL databases for the benchmark, dropped by the cleanup registry.
import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { onCleanup } from './cleanup.js';

const serverUrl = process.env.DBBEAT_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432';

export interface BenchDatabase {
  name: string;
  url: string;
  /** A small pool for setup and measurement queries. */
  pool: pg.Pool;
  /** Closes the pool and drops the database (idempotent). */
  drop(): Promise<void>;
}

/** Creates `<prefix>_<random>` and registers its drop for cleanup. */
export async function createBenchDatabase(prefix: string): Promise<BenchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = `${serverUrl}/${name}`;
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // A connection error on an idle client (e.g. the database dropped under it) must not crash the run.
  pool.on('error', () => {});
  const drop = onCleanup(`drop database ${name}`, async () => {
    await pool.end().catch(() => {});
    await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  return { name, url, pool, drop };
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}
