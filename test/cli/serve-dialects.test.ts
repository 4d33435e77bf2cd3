// `dbbeat serve` and `dbbeat beat --http` as a user starts them, on every dialect: the
// console migrates, listens, creates a task through the API and lists it; the beat's
// console answers /readyz and shows the same task. (The routes themselves are covered
// per dialect in test/http/api-dialects.test.ts; this covers the commands around them.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { BeatProcess } from '../support/beat-process.js';
import { testDialects } from '../support/dialects.js';
import { withPrivateRedis } from '../support/private-redis.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/dbbeat.js', import.meta.url));
const TOKEN = 'serve-test-token-0123456789';

/** Starts a `dbbeat` command with the console's token; its JSON log lines are collected. */
function start(args: string[]): BeatProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DBBEAT_HTTP_TOKEN: TOKEN, DBBEAT_HTTP_USER: '' },
  });
  return new BeatProcess(child, `dbbeat ${args[0]}`);
}

/** The console's base URL, from its "console listening on …" line. */
async function listening(process_: BeatProcess): Promise<string> {
  const line = await process_.waitForLine((l) => /^console listening on /.test(l.msg), 60_000);
  return String(line.url);
}

async function call(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: (text === '' ? null : JSON.parse(text)) as Record<string, unknown> };
}

const privateRedis = withPrivateRedis();

for (const dialect of testDialects) {
  describe(`dbbeat serve and beat --http on ${dialect.name}`, () => {
    let temp: { url: string; drop(): Promise<void> };
    before(async () => {
      temp = await dialect.create('dbbeat_serve_cmd');
    });
    after(async () => {
      await temp?.drop();
    });

    test('serve migrates, creates and lists a task; beat --http is ready and shows it', async () => {
      const serve = start(['serve', '--database-url', temp.url, '--http', '127.0.0.1:0', '-b', privateRedis().url(3)]);
      try {
        const base = await listening(serve);
        const created = await call(base, 'POST', '/api/tasks', {
          name: 'nightly report',
          task: 'proj.tasks.report',
          interval: { every: 30, period: 'seconds' },
        });
        assert.equal(created.status, 201, JSON.stringify(created.json));
        const listed = await call(base, 'GET', '/api/tasks');
        assert.equal(listed.status, 200);
        assert.equal(listed.json.total, 1);
        assert.equal((listed.json.items as { name: string }[])[0]?.name, 'nightly report');
      } finally {
        assert.equal((await serve.stop()).code, 0, serve.otherOutput.join('\n'));
      }

      const beat = start([
        'beat',
        '--database-url',
        temp.url,
        '-b',
        privateRedis().url(3),
        '--http',
        '127.0.0.1:0',
        '-l',
        'INFO',
        '--no-migrate',
      ]);
      try {
        const base = await listening(beat);
        await beat.waitForLine((l) => /^beat ready/.test(l.msg), 60_000);
        const ready = await call(base, 'GET', '/readyz');
        assert.equal(ready.status, 200, JSON.stringify(ready.json));
        const listed = await call(base, 'GET', '/api/tasks');
        assert.deepEqual(
          (listed.json.items as { name: string }[]).map((item) => item.name),
          ['nightly report'],
        );
      } finally {
        assert.equal((await beat.stop()).code, 0, beat.otherOutput.join('\n'));
      }
    });
  });
}
