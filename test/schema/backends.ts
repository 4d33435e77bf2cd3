// The two kinds of database every schema test runs against: a fresh PostgreSQL
// database on the local server, and a fresh in-memory PGlite.
import { createTempDatabase } from '../support/postgres.js';
import type { OpenDatabase } from '../../src/db/open.js';
import { openDatabase } from '../../src/db/open.js';
import { PGliteDatabase } from '../../src/db/pglite/connection.js';

export interface TestDatabase {
  db: OpenDatabase;
  /** postgres:// URL of the database (PostgreSQL only). */
  url: string | undefined;
  cleanup(): Promise<void>;
}

export interface TestBackend {
  name: 'postgres' | 'pglite';
  create(): Promise<TestDatabase>;
}

export const backends: readonly TestBackend[] = [
  {
    name: 'postgres',
    async create() {
      const temp = await createTempDatabase('dbbeat_schema');
      const db = await openDatabase({ databaseUrl: temp.url, poolSize: 4 });
      return {
        db,
        url: temp.url,
        async cleanup() {
          await db.close();
          await temp.drop();
        },
      };
    },
  },
  {
    name: 'pglite',
    async create() {
      const db = await PGliteDatabase.openInMemory();
      return { db, url: undefined, cleanup: () => db.close() };
    },
  },
];

/** Resolves with the first value `register` delivers, or rejects after `ms`. */
export function nextEvent<T>(register: (deliver: (value: T) => void) => void, ms = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
