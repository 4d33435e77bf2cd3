// A fresh PostgreSQL database per test file, on the server at 127.0.0.1:5432
// (override with DBBEAT_TEST_PG, a URL without a database name). Names are random and
// carry the file's tag (see cleanup.ts), so scripts/run-tests.mjs drops what a killed
// test left behind.
import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { testTag } from './cleanup.js';

const serverUrl = process.env.DBBEAT_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432';

export interface TempDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
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
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
