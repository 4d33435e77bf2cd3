// The embedded default: `dbbeat beat` with no DATABASE_URL owns a PGlite database in its
// data folder and serves it on a local port, so other processes (a script with our
// Prisma client, `dbbeat migrate`, psql) can add tasks while it runs.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { Redis } from 'ioredis';

import { createClient } from '../../src/model/client.js';
import { openDatabase } from '../../src/db/open.js';
import { BeatProcess } from '../support/beat-process.js';
import { PrivateRedis } from '../support/private-redis.js';

const redisServer = await PrivateRedis.start(); // this file's own
after(() => redisServer.remove());
const REDIS_URL = redisServer.url();
const bin = fileURLToPath(new URL('../../bin/dbbeat.js', import.meta.url));

describe('beat on the embedded database', () => {
  let dataDir: string;
  let beat: BeatProcess;
  let redis: Redis;
  const queue = `embedded_${randomBytes(4).toString('hex')}`;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dbbeat-embedded-'));
    redis = new Redis(REDIS_URL);
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const child = spawn(
      process.execPath,
      [bin, 'beat', '--data-dir', dataDir, '-b', REDIS_URL, '--max-interval', '60'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
      },
    );
    beat = new BeatProcess(child, 'embedded beat');
    // --max-interval 60, far above the pickup limits below: changes must arrive by notification.
    // Creating a PGlite database takes seconds (more on a busy machine).
    await beat.waitForLine((line) => line.msg.startsWith('beat ready'), 120_000);
  });

  after(async () => {
    await beat?.stop();
    await redis?.del(queue, `_kombu.binding.${queue}`);
    redis?.disconnect();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('a task added through our Prisma client from another connection is sent', async () => {
    const db = await openDatabase({ dataDir }); // finds the beat's server in server.json
    try {
      assert.match(db.description, /127\.0\.0\.1/);
      const prisma = createClient(db);
      await prisma.periodicTask.schedule({
        name: 'embedded-interval',
        task: 'tasks.add',
        interval: { every: 1, period: 'seconds' },
        args: [2, 3],
        queue,
      });
      await prisma.$disconnect();
    } finally {
      await db.close();
    }
    await beat.waitForLine((line) => line.task === 'embedded-interval' && line.msg.startsWith('sent'), 10_000);
    const raw = await redis.lrange(queue, 0, -1);
    assert.ok(raw.length >= 1);
    const message = JSON.parse(raw[0]!) as { headers: { task: string; periodic_task_name: string }; body: string };
    assert.equal(message.headers.task, 'tasks.add');
    assert.deepEqual((JSON.parse(Buffer.from(message.body, 'base64').toString()) as unknown[])[0], [2, 3]);
  });

  test('a row inserted with SQL over the served socket is picked up at once (NOTIFY reaches the owner)', async () => {
    const db = await openDatabase({ dataDir });
    const insertedAt = Date.now();
    try {
      await db.query(`INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (1, 'hours')`);
      await db.query(
        `INSERT INTO django_celery_beat_periodictask (name, task, args, kwargs, headers, queue, interval_id, enabled, one_off,
           total_run_count, date_changed, last_run_at, description)
         VALUES ('embedded-sql', 'tasks.report', '[]', '{}', '{}', $1,
           currval('django_celery_beat_intervalschedule_id_seq'), true, false, 0, now(), now() - interval '2 hours', '')`,
        [queue],
      );
    } finally {
      await db.close();
    }
    // Without the notification the change would wait for the next poll, --max-interval (60 s)
    // away; 15 s leaves room for a loaded machine (2.3 s seen at load 25) and still tells them apart.
    const sent = await beat.waitForLine((line) => line.task === 'embedded-sql' && line.msg.startsWith('sent'), 20_000);
    assert.ok(Date.parse(sent.time) - insertedAt < 15_000, `picked up after ${Date.parse(sent.time) - insertedAt} ms`);
  });

  test('dbbeat migrate reaches the served database while beat runs', () => {
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const result = spawnSync(process.execPath, [bin, 'migrate', '--data-dir', dataDir], {
      encoding: 'utf8',
      env,
      timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /up to date/);
  });
});
