// A fresh PostgreSQL database per test file, on the server at 127.0.0.1:5432
// (override with DBBEAT_TEST_PG, a URL without a database name). Names are random and
// carry the file's tag (see cleanup.ts), so scripts/run-tests.mjs drops what a killed
// test left behind.
import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { migrate } from '../../src/db/migrate.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { testTag } from './cleanup.js';

const serverUrl = process.env.DBBEAT_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432';

export interface TempDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** createTempDatabase(), then dbbeat's migrations run on it (nothing left open). */
export async function createMigratedDatabase(prefix?: string): Promise<TempDatabase> {
  const temp = await createTempDatabase(prefix);
  const db = await openDatabase({ databaseUrl: temp.url });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  return temp;
}

export async function createTempDatabase(prefix = 'dbbeat_test'): Promise<TempDatabase> {
  const name = `${prefix}_${testTag === '' ? '' : `${testTag}_`}${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: `${serverUrl}/${name}`,
    async drop() {
      const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
      await client.connect();
      try {
        // pg's Pool.end() resolves before its sockets have closed. A FORCE drop at that
        // moment kills a backend whose client is still closing, and a test's pool without
        // an 'error' listener then crashes the test process. Give our own connections a
        // moment to go; FORCE is for what a beat or a failed test left open.
        for (let tries = 0; tries < 100; tries++) {
          const { rows } = await client.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
            [name],
          );
          if ((rows[0]?.n ?? 0) === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

type Query = (sql: string, params: unknown[]) => Promise<unknown>;

/**
 * Resolves once the backend `pid` waits on a lock (pg_stat_activity's wait_event_type
 * 'Lock'), polling every few ms; rejects after `timeoutMs`. `query` must not run inside a
 * transaction: pg_stat_activity is a snapshot taken once per transaction.
 */
export async function waitUntilWaitingOnLock(query: Query, pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = (await query('SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1', [pid])) as
      { rows: { wait_event_type: string | null }[] } | { wait_event_type: string | null }[];
    const rows = Array.isArray(result) ? result : result.rows;
    if (rows[0]?.wait_event_type === 'Lock') return;
    if (Date.now() > deadline)
      throw new Error(`backend ${pid} did not wait on a lock within ${timeoutMs} ms (${JSON.stringify(rows[0])})`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A row lock a test holds in its own transaction (SELECT … FOR UPDATE) until it lets go. */
export interface RowLock {
  /** The backend pid of the holding connection. */
  pid: number;
  /** Ends the transaction (the lock goes with it) and the connection. Safe to call twice. */
  release(): Promise<void>;
}

/**
 * Locks the row `id` of `table` from a connection of its own, so that a statement of the
 * beat that writes the row (recording a run) waits, or skips it, while one that only reads
 * it (loading, sending) goes on.
 */
export async function holdRowLock(url: string, table: string, id: number): Promise<RowLock> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  await client.query('BEGIN');
  await client.query(`SELECT id FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
  let released = false;
  return {
    pid,
    async release() {
      if (released) return;
      released = true;
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

interface PlanNode {
  'Node Type': string;
  Plans?: PlanNode[];
}

/** The node types of a statement's plan (`EXPLAIN (FORMAT JSON)`), depth first: e.g. `['Limit', 'Index Scan']`. */
export async function planNodeTypes(db: Pick<Database, 'query'>, sql: string, params: unknown[]): Promise<string[]> {
  const [explained] = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  const types = (plan: PlanNode): string[] => [plan['Node Type'], ...(plan.Plans ?? []).flatMap(types)];
  return types(explained!['QUERY PLAN'][0].Plan);
}
