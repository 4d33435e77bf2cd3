// The package as a user gets it: `npm pack`, then `npm install --omit=dev` of the tarball
// into an empty folder, and there `npx dbbeat --version`, `dbbeat migrate`, `dbbeat beat`
// against PostgreSQL, and a script (and a type check) that imports the package's API.
// Slow (the pack builds dist/, the install fetches the runtime dependencies).
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { Redis } from 'ioredis';

import { createTempDatabase, type TempDatabase } from '../support/postgres.js';
import { PrivateRedis } from '../support/private-redis.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const version = (JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const MINUTES = 60_000;

/** Exit code and output of a finished child process (execFile rejects on a non-zero code). */
async function exec(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env: { ...process.env, ...env }, timeout: 10 * MINUTES });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** Resolves with the exit code of a child process. */
function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('the packed package, installed with --omit=dev', { timeout: 20 * MINUTES }, () => {
  let work: string;
  let app: string;
  let database: TempDatabase;
  let redis: PrivateRedis;
  const children = new Set<ChildProcess>();

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'dbbeat-package-'));
    app = join(work, 'app');
    await mkdir(app);
    // Pack a copy of the checkout: `npm pack` runs `prepare` (generate, build), which would
    // otherwise rebuild dist/ under the other test files' feet. The copy shares node_modules.
    const source = join(work, 'source');
    const skipped = new Set(['node_modules', 'dist', '.git', '.dbbeat', 'tmp']);
    await cp(repo, source, {
      recursive: true,
      filter: (path) => !skipped.has(relative(repo, path).split(sep)[0] ?? ''),
    });
    await symlink(join(repo, 'node_modules'), join(source, 'node_modules'), 'dir');
    const packed = await exec(npm, ['pack', '--pack-destination', work, '--silent'], source);
    assert.equal(packed.code, 0, `npm pack failed:\n${packed.stderr}`);
    const tarball = join(work, packed.stdout.trim().split('\n').at(-1)!);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const installed = await exec(npm, ['install', '--omit=dev', '--no-audit', '--no-fund', tarball], app);
    assert.equal(installed.code, 0, `npm install failed:\n${installed.stderr}`);
    database = await createTempDatabase('dbbeat_package');
    redis = await PrivateRedis.start();
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await database?.drop();
    await redis?.remove();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  test('ships built code, migrations and the generated Prisma client, and no tooling', () => {
    const installed = join(app, 'node_modules', 'dbbeat');
    for (const file of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'dist/generated/prisma/client.js',
      'web/dist/index.html',
      'migrations/0001_django_celery_beat_tables.sql',
      'LICENSE',
      'CHANGELOG.md',
    ]) {
      assert.ok(existsSync(join(installed, file)), `${file} is in the package`);
    }
    for (const file of ['src', 'test', 'bench', 'scripts', 'tsconfig.json']) {
      assert.ok(!existsSync(join(installed, file)), `${file} is not in the package`);
    }
    for (const tool of ['tsx', 'prisma', 'typescript', 'esbuild']) {
      assert.ok(!existsSync(join(app, 'node_modules', tool)), `${tool} is not installed`);
    }
  });

  test('npx dbbeat --version prints the version and exits 0', async () => {
    const result = await exec('npx', ['--no-install', 'dbbeat', '--version'], app);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), version);
  });

  test('npx dbbeat with an unknown flag exits 2', async () => {
    const result = await exec('npx', ['--no-install', 'dbbeat', '--no-such-flag'], app);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown option '--no-such-flag'/);
  });

  test('dbbeat migrate creates the tables', async () => {
    const result = await exec('npx', ['--no-install', 'dbbeat', 'migrate', '--database-url', database.url], app);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /applied 0001_django_celery_beat_tables\.sql/);
  });

  test('a script imports the API and schedules a task; the types resolve', async () => {
    await writeFile(
      join(app, 'add-task.mjs'),
      `import { openDatabase, createClient } from 'dbbeat';
const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL });
const prisma = createClient(db);
await prisma.periodicTask.schedule({
  name: 'package test', task: 'tasks.add', interval: { every: 1, period: 'seconds' }, args: [2, 3],
});
console.log(await prisma.periodicTask.count());
await prisma.$disconnect();
await db.close();
`,
    );
    const result = await exec(process.execPath, ['add-task.mjs'], app, { DATABASE_URL: database.url });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), '1');

    // A TypeScript user: the .d.ts files resolve through the package's exports.
    await writeFile(
      join(app, 'check.ts'),
      `import { buildSchedule, createClient, openDatabase, type OpenDatabase, type ScheduleSpec } from 'dbbeat';
const spec: ScheduleSpec = { kind: 'interval', every: 10, period: 'seconds' };
const next: Date | null = buildSchedule(spec).nextAfter(new Date());
const db: OpenDatabase = await openDatabase();
createClient(db);
void next;
`,
    );
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = await exec(
      process.execPath,
      [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--target', 'es2022', '--skipLibCheck', 'check.ts'],
      app,
    );
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  });

  test('npx dbbeat beat sends the task to Redis and exits 0 on SIGTERM', async () => {
    const pidfile = join(work, 'beat.pid');
    const child = spawn('npx', ['--no-install', 'dbbeat', 'beat', '--max-interval', '1', '--pidfile', pidfile], {
      cwd: app,
      env: { ...process.env, DATABASE_URL: database.url, CELERY_BROKER_URL: redis.url(0) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = exitOf(child);

    const client = new Redis(redis.url(0));
    try {
      // BLPOP waits for the first message (the task runs every second).
      const popped = await client.blpop('celery', 60);
      assert.ok(popped, `no message reached Redis within 60 s; beat said:\n${output}`);
      const envelope = JSON.parse(popped[1]) as { headers: { task: string } };
      assert.equal(envelope.headers.task, 'tasks.add');
    } finally {
      client.disconnect();
    }

    // The signal goes to dbbeat itself (as a supervisor with the pidfile does): npx then
    // exits with dbbeat's own code. A signal to npx's whole process group (Ctrl-C) makes
    // npm report 130/143 instead, because the `sh -c` that npm puts in between dies of it.
    const pid = Number((await readFile(pidfile, 'utf8')).trim());
    process.kill(pid, 'SIGTERM');
    assert.equal(await exited, 0, output);
    children.delete(child);
    assert.ok(!existsSync(pidfile), 'the pidfile is removed on a clean stop');
  });
});
