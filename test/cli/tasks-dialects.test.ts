// Every `dbbeat tasks` subcommand works the same way on every dialect
// (test/support/dialects.ts): ls and show read MySQL's naive DATETIMEs in the database's
// zone and its 0/1 flags as booleans, an unknown name suggests the closest one; enable,
// disable and rm write through the dialect's Prisma client (the change log sees them);
// run sends one message to a private Redis and leaves the schedule alone.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { Redis } from 'ioredis';

import { runDbbeat } from '../support/cli.js';
import { testDialects, withDialectDatabase } from '../support/dialects.js';
import { withPrivateRedis } from '../support/private-redis.js';

const redis = withPrivateRedis();

/** `dbbeat tasks <args…> --database-url <url>`, in UTC. */
const dbbeat = (url: string, ...args: string[]) =>
  runDbbeat(['tasks', ...args, '--database-url', url], { DATABASE_URL: '', TZ: 'UTC' });

for (const dialect of testDialects) {
  describe(`dbbeat tasks on ${dialect.name}`, () => {
    const database = withDialectDatabase(dialect, 'dbbeat_tasks_dialects');

    before(async () => {
      const { db } = database;
      await dialect.insertTask(db, {
        name: 'tick',
        schedule: { interval: { every: 10, period: 'seconds' } },
        lastRunAt: new Date('2026-11-30T12:00:00.250Z'),
        args: '[1, 2]',
      });
      await dialect.insertTask(db, {
        name: 'nightly',
        schedule: { crontab: { minute: '0', hour: '3' } },
        enabled: false,
      });
    });

    test('ls --json lists every task with its schedule, flags and times', async () => {
      const { code, stdout, stderr } = await dbbeat(database.url, 'ls', '--json');
      assert.equal(code, 0, stderr);
      const tasks = JSON.parse(stdout) as {
        name: string;
        enabled: boolean;
        args: string;
        lastRunAt: string | null;
        schedule: unknown;
      }[];
      assert.deepEqual(
        tasks.map((t) => [t.name, t.enabled, t.args]),
        [
          ['nightly', false, '[]'],
          ['tick', true, '[1, 2]'],
        ],
      );
      assert.match(JSON.stringify(tasks[1]), /2026-11-30T12:00:00\.250Z/, 'last run read as the instant written');
    });

    test('show names one task; a mistyped name exits 2 with the closest name', async () => {
      const shown = await dbbeat(database.url, 'show', 'tick', '--json');
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal((JSON.parse(shown.stdout) as { name: string; enabled: boolean }).enabled, true);
      const typo = await dbbeat(database.url, 'show', 'tikc');
      assert.equal(typo.code, 2);
      assert.match(typo.stderr, /did you mean "tick"/);
    });

    test('disable and enable change the flag once and log a change; names already so are counted', async () => {
      const changes = async () =>
        Number((await dialect.query<{ n: number }>(database.db, 'SELECT COUNT(*) AS n FROM dbbeat_change'))[0]!.n);
      const before = await changes();
      const disabled = await dbbeat(database.url, 'disable', 'tick', 'nightly');
      assert.equal(disabled.code, 0, disabled.stderr);
      assert.equal(disabled.stdout, 'disabled "tick"\n1 already disabled\n');
      assert.ok((await changes()) > before, 'the change log saw the write');
      const shown = JSON.parse((await dbbeat(database.url, 'show', 'tick', '--json')).stdout) as { enabled: boolean };
      assert.equal(shown.enabled, false);
      const enabled = await dbbeat(database.url, 'enable', 'tick', 'nightly', '--json');
      assert.equal(enabled.code, 0, enabled.stderr);
      assert.deepEqual(
        (JSON.parse(enabled.stdout) as { name: string; changes: unknown }[])
          .map((w) => [w.name, w.changes])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
        [
          ['nightly', { enabled: { from: false, to: true } }],
          ['tick', { enabled: { from: false, to: true } }],
        ],
      );
      const typo = await dbbeat(database.url, 'enable', 'nightlly');
      assert.equal(typo.code, 2);
      assert.match(typo.stderr, /did you mean "nightly"/);
    });

    test('run sends one message marked manual; the schedule and run count stay', async () => {
      const url = redis().url(dialect.name === 'postgres' ? 1 : 2);
      const ran = await dbbeat(database.url, 'run', 'tick', '--json', '--broker', url);
      assert.equal(ran.code, 0, ran.stderr);
      const { taskId } = JSON.parse(ran.stdout) as { taskId: string };
      const client = new Redis(url);
      try {
        const raw = await client.lrange('celery', 0, -1);
        assert.equal(raw.length, 1);
        const envelope = JSON.parse(raw[0]!) as { headers: Record<string, unknown> };
        assert.equal(envelope.headers.id, taskId);
        assert.equal(envelope.headers.periodic_task_name, 'tick');
        assert.match(String(envelope.headers.dbbeat_manual_run), /^cli:/);
      } finally {
        client.disconnect();
      }
      const shown = JSON.parse((await dbbeat(database.url, 'show', 'tick', '--json')).stdout) as {
        totalRunCount: number;
      };
      assert.equal(shown.totalRunCount, 0);
    });

    test('run of a row that breaks a rule: 2, one line naming the task, field and value; nothing sent', async () => {
      const { db } = database;
      await dialect.insertTask(db, {
        name: 'broken args',
        schedule: { interval: { every: 1, period: 'hours' } },
        args: '[1, 2',
      });
      const url = redis().url(dialect.name === 'postgres' ? 3 : 4);
      const ran = await dbbeat(database.url, 'run', 'broken args', '--broker', url);
      assert.equal(ran.code, 2, ran.stderr);
      assert.equal(
        ran.stderr,
        'dbbeat tasks: task "broken args" cannot be run: args: "[1, 2" is not JSON (Expecting \',\' delimiter at char 5)\n',
      );
      const client = new Redis(url);
      try {
        assert.equal(await client.llen('celery'), 0);
      } finally {
        client.disconnect();
        await dialect.query(db, 'DELETE FROM django_celery_beat_periodictask WHERE name = $1', ['broken args']);
      }
    });

    test('rm deletes the named tasks, and a second rm finds none', async () => {
      const removed = await dbbeat(database.url, 'rm', 'nightly');
      assert.equal(removed.code, 0, removed.stderr);
      assert.equal(removed.stdout, 'deleted "nightly"\n');
      const left = JSON.parse((await dbbeat(database.url, 'ls', '--json')).stdout) as { name: string }[];
      assert.deepEqual(
        left.map((t) => t.name),
        ['tick'],
      );
      const again = await dbbeat(database.url, 'rm', 'nightly');
      assert.equal(again.code, 2);
    });
  });
}
