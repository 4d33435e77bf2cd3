#!/usr/bin/env node
// Runs test files with Node's test runner and tsx, several at once.
//
//   node scripts/run-tests.mjs [--jobs N] [path ...]
//
// With no path: every test/**/*.test.ts outside test/faults/ and test/package/ (`npm test`);
// the fault tests run with `npm run test:faults` (`node scripts/run-tests.mjs test/faults`),
// the package-install test (minutes: it packs and installs the tarball) with `npm run test:package`.
// --jobs (or DBBEAT_TEST_JOBS): files run at once; default 5 (the files mostly wait on
// services and child processes: the whole suite keeps about half a core busy).
// --typecheck: also runs `tsc --noEmit`, beside the files (`npm test` does).
// The slowest files of the last run start first (times in node_modules/.cache/).
//
// Files can run side by side because none shares state with another: each starts its
// own redis-server (test/support/private-redis.ts), creates PostgreSQL databases with
// random names and uses random queue names on RabbitMQ.
//
// What a file started is cleaned up even when it is killed or hangs: each file runs in
// its own process group with its own TMPDIR, and afterwards the runner kills the group,
// the process groups the file registered (Celery workers run in groups of their own),
// drops the PostgreSQL databases tagged with the file's tag and removes its TMPDIR.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

import mariadb from 'mariadb';
import pg from 'pg';

const FILE_TIMEOUT_MS = 15 * 60_000;
/** Where the last run's time per file is kept, to start the slow files first. */
const TIMES_FILE = join('node_modules', '.cache', 'dbbeat-test-times.json');

function collect(path) {
  if (statSync(path).isDirectory()) {
    return readdirSync(path)
      .sort()
      .flatMap((name) => collect(join(path, name)));
  }
  return path.endsWith('.test.ts') ? [path] : [];
}

function parseArgs(argv) {
  let jobs = Number(process.env.DBBEAT_TEST_JOBS ?? 5);
  let typecheck = false;
  const roots = [];
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    if (arg === '--typecheck') typecheck = true;
    else if (arg === '--jobs' || arg === '-j') jobs = Number(argv[(index += 1)]);
    else if (arg.startsWith('--jobs=')) jobs = Number(arg.slice('--jobs='.length));
    else roots.push(arg);
  }
  if (!Number.isInteger(jobs) || jobs < 1) {
    console.error(`run-tests: --jobs must be a whole number of at least 1, got ${jobs}`);
    process.exit(2);
  }
  return { jobs, roots, typecheck };
}

const { jobs, roots, typecheck } = parseArgs(process.argv.slice(2));
/** Folders `npm test` leaves to their own scripts (test:faults, test:package). */
const SEPARATE = ['faults', 'package'].map((folder) => join('test', folder) + '/');
const files = (
  roots.length > 0
    ? roots.flatMap(collect)
    : collect('test').filter((file) => !SEPARATE.some((folder) => file.startsWith(folder)))
).map((file) => relative('.', file));
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
let lastTimes = {};
try {
  lastTimes = JSON.parse(readFileSync(TIMES_FILE, 'utf8'));
} catch {
  // first run: a rough guess, processes and services first
}
const guess = (file) => lastTimes[file] ?? (/faults|beat|package|django/.test(file) ? 60 : 10);
const queue = [...files].sort((a, b) => guess(b) - guess(a));

const runDir = mkdtempSync(join(tmpdir(), 'dbbeat-tests-'));
const serverUrl = process.env.DBBEAT_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432';
const mysqlServerUrl = new URL(process.env.DBBEAT_TEST_MYSQL ?? 'mysql://root@127.0.0.1:3306');
/** Files running now: file -> { child, tag, dir }. */
const running = new Map();
const results = [];
let interrupted = false;

/** Kills a process group; it may be gone already. */
function killGroup(pid, signal = 'SIGKILL') {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Everything a file left behind: its process groups, databases and temporary files. */
async function cleanUp({ child, tag, dir }) {
  killGroup(child.pid);
  const groups = join(dir, 'process-groups');
  if (existsSync(groups)) {
    for (const line of readFileSync(groups, 'utf8').split('\n')) if (/^\d+$/.test(line)) killGroup(Number(line));
  }
  const admin = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  try {
    await admin.connect();
    const { rows } = await admin.query('SELECT datname FROM pg_database WHERE strpos(datname, $1) > 0', [`_${tag}_`]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    if (rows.length > 0)
      console.log(
        `run-tests: dropped ${rows.length} database(s) left by a test: ${rows.map((r) => r.datname).join(', ')}`,
      );
  } catch (error) {
    console.error(`run-tests: could not drop the databases tagged ${tag}: ${error.message}`);
  } finally {
    await admin.end().catch(() => undefined);
  }
  await dropTaggedMysqlDatabases(tag);
  rmSync(dir, { recursive: true, force: true });
}

/** The MySQL/MariaDB databases a file left behind (test/support/mysql.ts tags them the same way). */
async function dropTaggedMysqlDatabases(tag) {
  let connection;
  try {
    connection = await mariadb.createConnection({
      host: mysqlServerUrl.hostname,
      port: Number(mysqlServerUrl.port || 3306),
      user: decodeURIComponent(mysqlServerUrl.username || 'root'),
      password: decodeURIComponent(mysqlServerUrl.password),
      connectTimeout: 2000,
    });
    const names = (await connection.query('SHOW DATABASES'))
      .map((row) => Object.values(row)[0])
      .filter((name) => name.includes(`_${tag}_`));
    for (const name of names) await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    if (names.length > 0)
      console.log(`run-tests: dropped ${names.length} MySQL database(s) left by a test: ${names.join(', ')}`);
  } catch (error) {
    // No MariaDB here: the MySQL tests fail on their own and say so.
    if (error.code !== 'ECONNREFUSED' && error.code !== 'ER_GET_CONNECTION_TIMEOUT')
      console.error(`run-tests: could not drop the MySQL databases tagged ${tag}: ${error.message}`);
  } finally {
    await connection?.end().catch(() => undefined);
  }
}

function runFile(file) {
  return new Promise((resolve) => {
    const tag = randomBytes(3).toString('hex');
    const dir = join(runDir, tag);
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    const started = performance.now();
    const output = [];
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', file], {
      detached: true, // its own process group: whatever it starts can be killed with it
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        TMPDIR: join(dir, 'tmp'),
        DBBEAT_TEST_TAG: tag,
        DBBEAT_TEST_CLEANUP_DIR: dir,
      },
    });
    const entry = { child, tag, dir };
    running.set(file, entry);
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    const timer = setTimeout(() => {
      output.push(Buffer.from(`\nrun-tests: ${file} did not finish within ${FILE_TIMEOUT_MS / 60_000} min; killed\n`));
      killGroup(child.pid);
    }, FILE_TIMEOUT_MS);
    child.once('close', async (code, signal) => {
      clearTimeout(timer);
      running.delete(file);
      await cleanUp(entry);
      const seconds = (performance.now() - started) / 1000;
      const ok = code === 0;
      process.stdout.write(
        `\n── ${file} ${ok ? 'passed' : `FAILED (${signal ?? `exit ${code}`})`} in ${seconds.toFixed(1)} s\n`,
      );
      process.stdout.write(Buffer.concat(output));
      results.push({ file, ok, seconds });
      resolve();
    });
  });
}

async function interrupt(signal) {
  if (interrupted) return;
  interrupted = true;
  console.error(`\nrun-tests: ${signal}: stopping ${running.size} file(s) and cleaning up`);
  queue.length = 0;
  await Promise.all([...running.values()].map((entry) => cleanUp(entry)));
  rmSync(runDir, { recursive: true, force: true });
  process.exit(130);
}
process.once('SIGINT', () => void interrupt('SIGINT'));
process.once('SIGTERM', () => void interrupt('SIGTERM'));

/** `tsc --noEmit` beside the test files (it takes one core at most). */
function runTypecheck() {
  return new Promise((resolve) => {
    const started = performance.now();
    const output = [];
    const child = spawn(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    child.once('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(
        `\n── typecheck (tsc --noEmit) ${code === 0 ? 'passed' : 'FAILED'} in ${seconds.toFixed(1)} s\n`,
      );
      process.stdout.write(Buffer.concat(output));
      results.push({ file: 'typecheck', ok: code === 0, seconds });
      resolve();
    });
  });
}

const began = performance.now();
console.log(
  `run-tests: ${files.length} files, ${Math.min(jobs, files.length)} at a time${typecheck ? ', and the typecheck' : ''}`,
);
await Promise.all([
  ...(typecheck ? [runTypecheck()] : []),
  ...Array.from({ length: Math.min(jobs, files.length) }, async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) await runFile(file);
  }),
]);
rmSync(runDir, { recursive: true, force: true });
try {
  const times = { ...lastTimes };
  for (const result of results) if (result.file !== 'typecheck') times[result.file] = Math.round(result.seconds);
  mkdirSync(dirname(TIMES_FILE), { recursive: true });
  writeFileSync(TIMES_FILE, `${JSON.stringify(times, null, 1)}\n`);
} catch {
  // a read-only checkout: next time the rough guess again
}

const failed = results.filter((result) => !result.ok);
const wall = (performance.now() - began) / 1000;
console.log('\nrun-tests: time per file');
for (const result of [...results].sort((a, b) => b.seconds - a.seconds)) {
  console.log(`  ${result.seconds.toFixed(1).padStart(6)} s  ${result.ok ? 'ok    ' : 'FAILED'}  ${result.file}`);
}
console.log(
  `run-tests: ${results.length - failed.length} of ${results.length} files passed in ${wall.toFixed(1)} s (wall)`,
);
if (failed.length > 0) {
  console.log(`run-tests: failed: ${failed.map((result) => result.file).join(', ')}`);
  process.exit(1);
}
