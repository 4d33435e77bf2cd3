import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import pg from 'pg';

import { PrismaClient } from '../../src/generated/prisma/client.js';
import { migrate } from '../../src/db/migrate.js';
import { DataDirInUseError, openDatabase, type OpenDatabase } from '../../src/db/open.js';
import { PGliteDatabase } from '../../src/db/pglite/connection.js';
import { nextEvent } from './backends.js';

const run = promisify(execFile);
const clientScript = fileURLToPath(new URL('./served-client.script.ts', import.meta.url));

/** Runs served-client.script.ts in a child process; resolves with its output and exit code. */
async function runClient(dataDir: string, action: 'insert' | 'open') {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', clientScript, dataDir, action], {
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('embedded PGlite served to other processes', () => {
  let dataDir: string;
  let owner: OpenDatabase;
  let ownerClosed = false;
  const notifications: string[] = [];
  const waiters: ((payload: string) => void)[] = [];
  const nextNotification = () => nextEvent<string>((deliver) => waiters.push(deliver), 10_000);

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dbbeat-served-'));
    owner = await openDatabase({ dataDir, serve: true });
    await migrate(owner);
    await owner.listen('dbbeat_change', (payload) => {
      notifications.push(payload);
      for (const waiter of waiters.splice(0)) waiter(payload);
    });
  });
  after(async () => {
    if (!ownerClosed) await owner.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('the owner writes server.json and a lock into the data folder', async () => {
    assert.ok(owner instanceof PGliteDatabase);
    assert.equal(owner.kind, 'pglite');
    assert.ok(await exists(join(dataDir, 'server.json')));
    assert.ok(await exists(join(dataDir, 'dbbeat.lock')));
    assert.match(owner.description, /embedded PGlite at /);
  });

  test("a socket client's insert reaches the owner's listen() as a NOTIFY", async () => {
    const { port } = (owner as PGliteDatabase).serverAddress!;
    const client = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    });
    await client.connect();
    try {
      const notified = nextNotification();
      await client.query("INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (3, 'hours')");
      const [latest] = await owner.query<{ id: string }>('SELECT max(id)::text AS id FROM dbbeat_change');
      assert.equal(await notified, latest!.id);
      // Delivered once: the owner's next statements do not deliver it again.
      const count = notifications.length;
      await owner.query('SELECT 1');
      await client.query('SELECT 1');
      assert.equal(notifications.length, count);
    } finally {
      await client.end();
    }
  });

  test("two socket clients at once: one's transaction is not mixed with the other's statements", async () => {
    const { port } = (owner as PGliteDatabase).serverAddress!;
    const url = `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`;
    const [first, second] = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })];
    await Promise.all([first.connect(), second.connect()]);
    try {
      await first.query('BEGIN');
      await first.query("INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (1001, 'days')");
      // Queued by the server until the first client's transaction ends.
      const secondInsert = second.query(
        "INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (1002, 'days')",
      );
      // The owner's own statements also wait for it (else they would join it).
      const ownerInsert = owner.query(
        "INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (1003, 'days')",
      );
      await first.query('ROLLBACK');
      await Promise.all([secondInsert, ownerInsert]);
      const rows = await owner.query<{ every: number }>(
        'SELECT every FROM django_celery_beat_intervalschedule WHERE every > 1000 ORDER BY every',
      );
      assert.deepEqual(
        rows.map((row) => row.every),
        [1002, 1003],
      );
    } finally {
      await Promise.all([first.end(), second.end()]);
    }
  });

  test('another process finds the server through server.json, and its insert notifies the owner', async () => {
    const notified = nextNotification();
    const result = await runClient(dataDir, 'insert');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /served by another process/);
    const insertedId = Number(/inserted (\d+)/.exec(result.stdout)?.[1]);
    const payload = await notified;
    const [change] = await owner.query<{ row_id: number }>('SELECT row_id FROM dbbeat_change WHERE id = $1', [payload]);
    assert.equal(change?.row_id, insertedId);
  });

  test('in this process too, opening the folder again goes through the server', async () => {
    const logged: string[] = [];
    const client = await openDatabase({ dataDir, log: (line) => logged.push(line) });
    try {
      assert.match(client.description, /served by another process/);
      const [row] = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM django_celery_beat_intervalschedule WHERE every = $1',
        [42],
      );
      assert.equal(row?.n, 1);
      // No notifications through the socket: listen() says so and leaves it to polling.
      const stop = await client.listen('dbbeat_change', () => assert.fail('no notification expected'));
      await stop();
      assert.ok(logged.some((line) => /changes are noticed by polling only/.test(line)));
      // Prisma works over the served connection as over PostgreSQL.
      const prisma = new PrismaClient({ adapter: client.prismaAdapter() });
      try {
        assert.equal(await prisma.intervalSchedule.count({ where: { every: 42 } }), 1);
      } finally {
        await prisma.$disconnect();
      }
    } finally {
      await client.close();
    }
  });

  test('Prisma works in the owning process through PGlite directly', async () => {
    const prisma = new PrismaClient({ adapter: owner.prismaAdapter() });
    try {
      const created = await prisma.intervalSchedule.create({ data: { every: 5, period: 'days' } });
      assert.equal((await prisma.intervalSchedule.findUniqueOrThrow({ where: { id: created.id } })).period, 'days');
    } finally {
      await prisma.$disconnect();
    }
  });

  test('closing the owner removes server.json and the lock', async () => {
    ownerClosed = true;
    await owner.close();
    assert.ok(!(await exists(join(dataDir, 'server.json'))));
    assert.ok(!(await exists(join(dataDir, 'dbbeat.lock'))));
  });
});

describe('embedded PGlite opened directly', () => {
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dbbeat-direct-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  test('a second opener, in this process or another, gets a clear error; after close the folder is free', async () => {
    const owner = await openDatabase({ dataDir });
    try {
      assert.ok(!(await exists(join(dataDir, 'server.json'))));
      await assert.rejects(openDatabase({ dataDir }), DataDirInUseError);
      const other = await runClient(dataDir, 'open');
      assert.equal(other.code, 2);
      assert.match(other.stderr, new RegExp(`DataDirInUseError: .*${process.pid}`));
    } finally {
      await owner.close();
    }
    assert.ok(!(await exists(join(dataDir, 'dbbeat.lock'))));
    const reopened = await openDatabase({ dataDir });
    await reopened.close();
  });
});
