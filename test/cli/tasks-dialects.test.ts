// `dbbeat tasks ls` and `show` read the same rows the same way on every dialect
// (test/support/dialects.ts): MySQL's naive DATETIMEs in the database's zone, its 0/1
// flags as booleans, and an unknown name suggests the closest one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { migrate } from '../../src/db/migrate.js';
import { openDatabase, type OpenDatabase } from '../../src/db/open.js';
import { testDialects } from '../support/dialects.js';

const bin = fileURLToPath(new URL('../../bin/dbbeat.js', import.meta.url));

function dbbeat(url: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'tasks', ...args, '--database-url', url], {
      env: { ...process.env, DATABASE_URL: '', TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

for (const dialect of testDialects) {
  describe(`dbbeat tasks on ${dialect.name}`, () => {
    let temp: { url: string; drop(): Promise<void> };
    let db: OpenDatabase;

    before(async () => {
      temp = await dialect.create('dbbeat_tasks_dialects');
      db = await openDatabase({ databaseUrl: temp.url });
      await migrate(db);
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
    after(async () => {
      await db.close();
      await temp.drop();
    });

    test('ls --json lists every task with its schedule, flags and times', async () => {
      const { code, stdout, stderr } = await dbbeat(temp.url, 'ls', '--json');
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
      const shown = await dbbeat(temp.url, 'show', 'tick', '--json');
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal((JSON.parse(shown.stdout) as { name: string; enabled: boolean }).enabled, true);
      const typo = await dbbeat(temp.url, 'show', 'tikc');
      assert.equal(typo.code, 2);
      assert.match(typo.stderr, /did you mean "tick"/);
    });
  });
}
