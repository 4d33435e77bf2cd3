// A fresh MySQL/MariaDB database per test file, on the server at 127.0.0.1:3306
// (override with DBBEAT_TEST_MYSQL, a URL without a database name). Names are random and
// carry the file's tag, as PostgreSQL's do (see postgres.ts).
import { randomBytes } from 'node:crypto';

import mariadb from 'mariadb';

import { poolConfigOf } from '../../src/db/mysql/connection.js';
import { testTag } from './cleanup.js';

export const mysqlServerUrl = process.env.DBBEAT_TEST_MYSQL ?? 'mysql://root@127.0.0.1:3306';

export interface TempMysqlDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Runs one statement as the server's admin user, on no database. */
export async function mysqlAdmin(sql: string): Promise<void> {
  const connection = await mariadb.createConnection(poolConfigOf(`${mysqlServerUrl}/`));
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

/**
 * Creates a database with a random name carrying the file's tag (see cleanup.ts), in
 * utf8mb4 as Django's docs ask; drop() removes it.
 */
export async function createTempMysqlDatabase(prefix = 'dbbeat_test'): Promise<TempMysqlDatabase> {
  const name = `${prefix}_${testTag === '' ? '' : `${testTag}_`}${randomBytes(6).toString('hex')}`;
  await mysqlAdmin(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  return {
    name,
    url: `${mysqlServerUrl}/${name}`,
    drop: () => mysqlAdmin(`DROP DATABASE IF EXISTS \`${name}\``),
  };
}
