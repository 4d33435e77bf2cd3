import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import pg from 'pg';

import { openDatabase, type OpenDatabase, UnsupportedDatabaseUrlError } from '../../src/db/open.js';
import { createTempDatabase, type TempDatabase } from '../support/postgres.js';
import { nextEvent } from './backends.js';

describe('PostgreSQL connections', () => {
  let temp: TempDatabase;
  let db: OpenDatabase;
  const logged: string[] = [];

  before(async () => {
    temp = await createTempDatabase('dbbeat_conn');
    db = await openDatabase({ databaseUrl: temp.url, poolSize: 2, log: (line) => logged.push(line) });
  });
  after(async () => {
    await db.close();
    await temp.drop();
  });

  /** Terminates this database's backends that match `filter`, from a connection of its own. */
  async function terminateBackends(filter: string): Promise<number> {
    const admin = new pg.Client({ connectionString: temp.url });
    await admin.connect();
    try {
      const result = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid() AND ${filter}`,
        [temp.name],
      );
      return result.rowCount ?? 0;
    } finally {
      await admin.end();
    }
  }

  test('description hides the password; other URL schemes are refused by name', async () => {
    const withPassword = await openDatabase({ databaseUrl: 'postgres://alice:s3cret@127.0.0.1:5432/x' });
    assert.equal(withPassword.description, 'postgres://alice:***@127.0.0.1:5432/x');
    await withPassword.close();
    await assert.rejects(
      openDatabase({ databaseUrl: 'sqlite://u:pw@127.0.0.1/x' }),
      (error: unknown) =>
        error instanceof UnsupportedDatabaseUrlError &&
        error.message ===
          'DATABASE_URL must start with postgres://, postgresql://, mysql:// or mariadb://, got "sqlite://u:***@127.0.0.1/x"',
    );
  });

  test('transaction commits on success and rolls back on error', async () => {
    await db.query('CREATE TABLE dbbeat_test_tx (n int)');
    await db.transaction(async (tx) => tx.query('INSERT INTO dbbeat_test_tx VALUES (1)'));
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO dbbeat_test_tx VALUES (2)');
        throw new Error('abandon');
      }),
      /abandon/,
    );
    assert.deepEqual(await db.query('SELECT n FROM dbbeat_test_tx'), [{ n: 1 }]);
  });

  test('listen() survives its backend being terminated: it reconnects, says so with an empty payload, and listens again', async () => {
    const waiters: ((payload: string) => void)[] = [];
    const next = () => nextEvent<string>((deliver) => waiters.push(deliver), 15_000);
    const stop = await db.listen('dbbeat_test_channel', (payload) => {
      for (const waiter of waiters.splice(0)) waiter(payload);
    });
    try {
      let notified = next();
      await db.query("SELECT pg_notify('dbbeat_test_channel', 'first')");
      assert.equal(await notified, 'first');

      const reconnected = next();
      assert.equal(await terminateBackends("query ILIKE 'LISTEN%'"), 1);
      assert.equal(await reconnected, '');
      assert.ok(
        logged.some((line) => line.includes('reconnecting')),
        logged.join('; '),
      );

      notified = next();
      await db.query("SELECT pg_notify('dbbeat_test_channel', 'second')");
      assert.equal(await notified, 'second');
    } finally {
      await stop();
    }
  });

  test('an idle pooled connection that dies is logged, not thrown, and the next query works', async () => {
    // Make sure a pooled connection exists and is idle.
    await db.query('SELECT 1');
    const loggedBefore = logged.length;
    assert.ok((await terminateBackends("state = 'idle'")) >= 1);
    // The pool notices asynchronously; wait until it has logged.
    await nextEvent<void>((deliver) => {
      const poll = setInterval(() => {
        if (logged.length > loggedBefore) {
          clearInterval(poll);
          deliver();
        }
      }, 10);
    });
    assert.match(logged.at(-1)!, /idle connection lost/);
    assert.deepEqual(await db.query<{ ok: number }>('SELECT 1 AS ok'), [{ ok: 1 }]);
  });
});
