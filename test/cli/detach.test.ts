// `dbbeat beat --detach` with --pidfile, --logfile, --workdir, --uid/--gid, as `celery beat
// --detach` runs: the command returns 0 at once and the beat goes on in the background.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { createTempDatabase, type TempDatabase } from '../support/postgres.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(repo, 'bin', 'dbbeat.js');
/** The broker is out of reach on purpose: the beat runs (and logs a warning) without it. */
const BROKER = 'redis://127.0.0.1:1/0';

function run(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const options = { cwd, env: { ...process.env, ...env }, timeout: 60_000 };
    execFile(process.execPath, [bin, ...args], options, (error, _stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stderr });
    });
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('dbbeat beat --detach', { timeout: 5 * 60_000 }, () => {
  let database: TempDatabase;
  let work: string;
  const started: number[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  before(async () => {
    database = await createTempDatabase('dbbeat_detach');
    work = await mkdtemp(join(tmpdir(), 'dbbeat-detach-'));
    await chmod(work, 0o777);
  });
  after(async () => {
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
    for (const cleanup of cleanups) await cleanup();
    await database?.drop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  test('returns 0 at once; the beat runs in the background with its pidfile, log file and workdir', async () => {
    const pidfile = join(work, 'beat.pid');
    const logfile = join(work, 'beat.log');
    // Relative paths are taken from where the command started, not from --workdir.
    const outcome = await run(
      [
        'beat',
        '--detach',
        '--pidfile',
        'beat.pid',
        '--logfile',
        'beat.log',
        '--workdir',
        '/',
        '--database-url',
        database.url,
        '-b',
        BROKER,
      ],
      work,
    );
    assert.equal(outcome.code, 0, outcome.stderr);
    await until('the pidfile', () => existsSync(pidfile));
    const pid = Number((await readFile(pidfile, 'utf8')).trim());
    started.push(pid);
    assert.ok(alive(pid));
    await until('the start in the log file', async () =>
      (await readFile(logfile, 'utf8').catch(() => '')).includes('dbbeat starting'),
    );
    if (process.platform === 'linux') assert.equal(await readlink(`/proc/${pid}/cwd`), '/');

    process.kill(pid, 'SIGTERM');
    await until('the beat to stop', () => !alive(pid));
    assert.ok(!existsSync(pidfile), 'the pidfile is removed on a clean stop');
    assert.match(await readFile(logfile, 'utf8'), /dbbeat stopped/);
  });

  test('a bad setting is reported in the foreground with exit 2, before detaching', async () => {
    const outcome = await run(['beat', '--detach', '--loglevel', 'LOUD', '--database-url', database.url], work);
    assert.equal(outcome.code, 2);
    assert.match(outcome.stderr, /loglevel: "LOUD"/);
  });

  test(
    '--uid/--gid: the beat runs as that user and group',
    { skip: process.getuid?.() !== 0 && 'needs root' },
    async () => {
      // The test runner's TMPDIR is private to root: the user needs a folder it can reach.
      const shared = await mkdtemp('/tmp/dbbeat-detach-uid-');
      cleanups.push(() => rm(shared, { recursive: true, force: true }));
      await chmod(shared, 0o777);
      const pidfile = join(shared, 'nobody.pid');
      const outcome = await run(
        [
          'beat',
          '--detach',
          '--uid',
          'nobody',
          '--gid',
          '65534',
          '--pidfile',
          pidfile,
          '--logfile',
          join(shared, 'nobody.log'),
          '--database-url',
          database.url,
          '-b',
          BROKER,
        ],
        shared,
        { TMPDIR: shared },
      );
      assert.equal(outcome.code, 0, outcome.stderr);
      await until('the pidfile', () => existsSync(pidfile));
      const pid = Number((await readFile(pidfile, 'utf8')).trim());
      started.push(pid);
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      assert.match(status, /^Uid:\s+65534\s+65534/m);
      assert.match(status, /^Gid:\s+65534\s+65534/m);
      process.kill(pid, 'SIGTERM');
      await until('the beat to stop', () => !alive(pid));
    },
  );
});
