// One exit-code rule for every command (README, "Exit codes"): 0 a clean stop, 1 a failure
// at run time, 2 a usage or configuration error, which also ends `dbbeat beat` within
// seconds with one line naming the setting instead of retrying forever.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import { createTempMysqlDatabase, mysqlServerUrl } from '../support/mysql.js';
import { createTempDatabase, type TempDatabase } from '../support/postgres.js';
import { withPrivateRedis } from '../support/private-redis.js';
import { insertTask } from '../support/rows.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(repo, 'bin', 'dbbeat.js');
const version = (JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string }).version;

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs `dbbeat args…` (or another program) to its end; a hang fails the test at `timeoutMs`. */
function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  { file = process.execPath, timeoutMs = 60_000 } = {},
): Promise<Outcome> {
  const started = performance.now();
  const argv = file === process.execPath ? [bin, ...args] : args;
  return new Promise((resolve) => {
    execFile(
      file,
      argv,
      { cwd: repo, env: { ...process.env, ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
      },
    );
  });
}

/** The lines a person reads on stderr (JSON log lines aside). */
function messageLines(outcome: Outcome): string[] {
  return outcome.stderr.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{'));
}

const UNREACHABLE_BROKER = 'redis://127.0.0.1:1/0';
const privateRedis = withPrivateRedis();

describe('exit codes', { timeout: 10 * 60_000 }, () => {
  let database: TempDatabase;
  let work: string;
  before(async () => {
    database = await createTempDatabase('dbbeat_exit');
    work = await mkdtemp(join(tmpdir(), 'dbbeat-exit-'));
  });
  after(async () => {
    await database?.drop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  test('--version prints the version: 0', async () => {
    const outcome = await run(['--version']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout.trim(), version);
  });

  test('--help: 0; an unknown command or flag of any command: 2', async () => {
    assert.equal((await run(['--help'])).code, 0);
    assert.equal((await run(['no-such-command'])).code, 2);
    for (const command of ['beat', 'migrate', 'next', 'serve', 'tasks']) {
      const outcome = await run([command, '--no-such-flag']);
      assert.equal(outcome.code, 2, `${command}: ${outcome.stderr}`);
      assert.match(outcome.stderr, /unknown option '--no-such-flag'/);
    }
  });

  // Each case: the arguments, the environment, and what the one line must name.
  const permanent: { name: string; args: () => string[]; env?: NodeJS.ProcessEnv; names: RegExp }[] = [
    {
      name: 'an unsupported database URL',
      args: () => ['--database-url', 'sqlite:///tmp/x.db', '-b', UNREACHABLE_BROKER],
      names: /database-url: .*sqlite/,
    },
    {
      name: 'a database that does not exist',
      args: () => ['--database-url', `${database.url}_missing`, '-b', UNREACHABLE_BROKER],
      names: /database-url: the database does not exist at 127\.0\.0\.1:\d+/,
    },
    {
      name: 'a role the server rejects',
      args: () => [
        '--database-url',
        database.url.replace('://postgres@', '://dbbeat_no_such_role@'),
        '-b',
        UNREACHABLE_BROKER,
      ],
      names: /database-url: .*rejected this user/,
    },
    {
      // The mariadb pool hides the server's answer behind its own acquire timeout (errno 45028).
      name: 'a MySQL/MariaDB database that does not exist',
      args: () => ['--database-url', `${mysqlServerUrl}/dbbeat_exit_no_such_db`, '-b', UNREACHABLE_BROKER],
      names: /database-url: the database does not exist at 127\.0\.0\.1:3306/,
    },
    {
      // MariaDB refuses an unknown user with 1045 or, for a user of another plugin, 1698.
      name: 'a MySQL/MariaDB user the server rejects',
      args: () => [
        '--database-url',
        Object.assign(new URL(mysqlServerUrl), {
          username: 'dbbeat_no_such_user',
          password: 'wrong',
          pathname: '/mysql',
        }).href,
        '-b',
        UNREACHABLE_BROKER,
      ],
      names: /database-url: authentication failed \(wrong user or password\) at 127\.0\.0\.1:3306/,
    },
    {
      name: 'a MySQL/MariaDB URL that names no database',
      args: () => ['--database-url', `${mysqlServerUrl}/`, '-b', UNREACHABLE_BROKER],
      names: /database-url: the URL names no database \(add \/<database> to it\) at 127\.0\.0\.1:3306/,
    },
    {
      name: 'a broker URL scheme dbbeat does not know',
      args: () => ['--database-url', database.url, '-b', 'kafka://127.0.0.1:9092'],
      names: /broker: scheme "kafka:" is not supported/,
    },
    {
      // amqplib reports RabbitMQ's 530 NOT_ALLOWED at connection.open only as an unexpected frame.
      name: 'a RabbitMQ virtual host that does not exist',
      args: () => ['--database-url', database.url, '-b', 'amqp://guest:guest@127.0.0.1:5672/dbbeat_no_such_vhost'],
      names: /broker: RabbitMQ at 127\.0\.0\.1:5672 refused the virtual host "dbbeat_no_such_vhost"/,
    },
    {
      // ioredis reports the failed SELECT only as an event and would go on in database 0.
      name: "a Redis database number beyond the server's",
      args: () => ['--database-url', database.url, '-b', privateRedis().url(99)],
      names: /broker: Redis at 127\.0\.0\.1:\d+ has no database 99 \(ERR DB index is out of range/,
    },
    {
      name: 'an unknown CELERY_TIMEZONE',
      args: () => ['--database-url', database.url, '-b', UNREACHABLE_BROKER],
      env: { CELERY_TIMEZONE: 'Mars/Olympus_Mons' },
      names: /timezone \(CELERY_TIMEZONE\): "Mars\/Olympus_Mons"/,
    },
    {
      name: 'a pidfile in a folder that does not exist',
      args: () => [
        '--database-url',
        database.url,
        '-b',
        UNREACHABLE_BROKER,
        '--pidfile',
        join(tmpdir(), 'dbbeat-no-such-folder', 'beat.pid'),
      ],
      names: /pidfile .*dbbeat-no-such-folder\/beat\.pid: cannot write it: its folder does not exist/,
    },
    {
      name: 'a bad option value',
      args: () => ['--database-url', database.url, '--loglevel', 'LOUD'],
      names: /loglevel: "LOUD"/,
    },
  ];
  for (const { name, args, env, names } of permanent) {
    test(`beat with ${name}: 2 within seconds, one line naming the setting`, async () => {
      const outcome = await run(['beat', ...args()], env);
      assert.equal(outcome.code, 2, outcome.stderr);
      assert.ok(outcome.seconds < 20, `took ${outcome.seconds.toFixed(1)} s`);
      const lines = messageLines(outcome);
      assert.equal(lines.length, 1, `one line, got:\n${lines.join('\n')}`);
      assert.match(lines[0]!, names);
      assert.doesNotMatch(outcome.stderr + outcome.stdout, /\n\s+at /, 'no stack trace');
    });
  }

  test('beat never shows a password, and names host:port of a server that refuses', async () => {
    const child = execFile(
      process.execPath,
      [bin, 'beat', '--database-url', 'postgres://alice:s3cret-pw@127.0.0.1:1/x'],
      {
        cwd: repo,
      },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 30_000;
    while (!/refused the connection; retrying/.test(output) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'a clean stop while retrying is exit 0');
    assert.match(output, /the database at 127\.0\.0\.1:1 refused the connection; retrying/);
    assert.doesNotMatch(output, /s3cret-pw/);
  });

  test('migrate: 0 applied, 2 for a missing database, 1 for a server that refuses', async () => {
    const applied = await run(['migrate', '--database-url', database.url]);
    assert.equal(applied.code, 0, applied.stderr);
    const missing = await run(['migrate', '--database-url', `${database.url}_missing`]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /database-url: the database does not exist/);
    const missingMysql = await run(['migrate', '--database-url', `${mysqlServerUrl}/dbbeat_exit_no_such_db`]);
    assert.equal(missingMysql.code, 2, missingMysql.stderr);
    assert.match(missingMysql.stderr, /database-url: the database does not exist at 127\.0\.0\.1:3306/);
    const refused = await run(['migrate', '--database-url', 'postgres://postgres@127.0.0.1:1/x']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /127\.0\.0\.1:1 refused the connection/);
  });

  test('migrate honours DBBEAT_DATA_DIR as beat does', { timeout: 180_000 }, async () => {
    const dataDir = join(work, 'embedded');
    const outcome = await run(['migrate'], { DATABASE_URL: '', DBBEAT_DATA_DIR: dataDir }, { timeoutMs: 170_000 });
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.ok(existsSync(dataDir), `${dataDir} was created`);
  });

  test('next: 0 for a schedule, 2 for a bad one', async () => {
    assert.equal((await run(['next', '--crontab', '0 9 * * mon', '-n', '1'])).code, 0);
    const bad = await run(['next', '--crontab', '61 9 * * mon']);
    assert.equal(bad.code, 2);
  });

  // The commands that open the database follow the same rule as beat and migrate (they exited 1
  // with the driver's message before): a setting that can never work is 2 with one line naming it.
  const databaseCases: { name: string; url: () => string; names: RegExp }[] = [
    {
      name: 'a database that does not exist',
      url: () => `${database.url}_missing`,
      names: /database-url: the database does not exist at 127\.0\.0\.1:\d+/,
    },
    {
      name: 'a MySQL/MariaDB database that does not exist',
      url: () => `${mysqlServerUrl}/dbbeat_exit_no_such_db`,
      names: /database-url: the database does not exist at 127\.0\.0\.1:3306/,
    },
    {
      name: 'a role the server rejects',
      url: () => database.url.replace('://postgres@', '://dbbeat_no_such_role@'),
      names: /database-url: .*rejected this user/,
    },
    { name: 'an unsupported database URL', url: () => 'sqlite:///tmp/x.db', names: /database-url: .*sqlite/ },
  ];
  const commands: { command: string[]; stdout?: boolean }[] = [
    { command: ['runs'] },
    { command: ['tasks', 'ls'] },
    { command: ['tasks', 'show', 'x'] },
    { command: ['tasks', 'run', 'x', '-b', UNREACHABLE_BROKER] },
    { command: ['serve', '--http', '127.0.0.1:0', '-b', UNREACHABLE_BROKER] },
    // doctor reports on stdout, as each of its checks.
    { command: ['doctor'], stdout: true },
  ];
  for (const { name, url, names } of databaseCases) {
    test(`runs, tasks, serve, doctor with ${name}: 2, one line naming the setting`, async () => {
      for (const { command, stdout } of commands) {
        const outcome = await run([...command, '--database-url', url()]);
        const what = `${command.join(' ')}: ${outcome.stdout}${outcome.stderr}`;
        assert.equal(outcome.code, 2, what);
        const lines = stdout ? outcome.stdout.split('\n').filter((line) => line.trim() !== '') : messageLines(outcome);
        assert.equal(lines.length, 1, what);
        assert.match(lines[0]!, names, what);
        assert.doesNotMatch(outcome.stderr + outcome.stdout, /\n\s+at /, 'no stack trace');
      }
    });
  }

  test('runs, tasks on a database without the tables (never migrated): 2, naming the table and `dbbeat migrate`', async () => {
    const empty = [await createTempDatabase('dbbeat_exit_empty'), await createTempMysqlDatabase('dbbeat_exit_empty')];
    try {
      for (const { url } of empty) {
        for (const command of [['runs'], ['tasks', 'ls'], ['tasks', 'show', 'x'], ['tasks', 'disable', 'x']]) {
          const outcome = await run([...command, '--database-url', url]);
          const what = `${command.join(' ')} on ${url}: ${outcome.stderr}`;
          assert.equal(outcome.code, 2, what);
          const lines = messageLines(outcome);
          assert.equal(lines.length, 1, what);
          assert.match(
            lines[0]!,
            /^dbbeat (runs|tasks): database-url: a table dbbeat needs is missing \(.*(dbbeat_run|django_celery_beat_periodictask).*\): run `dbbeat migrate`/,
            what,
          );
        }
      }
    } finally {
      for (const each of empty) await each.drop();
    }
  });

  test('runs, tasks with a MySQL URL that names no database: 2, saying so with host and port', async () => {
    for (const command of [['runs'], ['tasks', 'ls']]) {
      const outcome = await run([...command, '--database-url', `${mysqlServerUrl}/`]);
      assert.equal(outcome.code, 2, outcome.stderr);
      assert.deepEqual(messageLines(outcome), [
        `dbbeat ${command[0]}: database-url: the URL names no database (add /<database> to it) at 127.0.0.1:3306`,
      ]);
    }
  });

  test('serve on an address already in use: 2, one line naming it', async () => {
    assert.equal((await run(['migrate', '--database-url', database.url])).code, 0);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const outcome = await run(['serve', '--http', `127.0.0.1:${port}`, '--database-url', database.url]);
      assert.equal(outcome.code, 2, outcome.stderr);
      assert.deepEqual(messageLines(outcome), [
        `dbbeat serve: http: 127.0.0.1:${port} is already in use by another process (EADDRINUSE)`,
      ]);
    } finally {
      taken.close();
    }
  });

  test('runs, tasks: 1 for a server that refuses, with its host and port', async () => {
    for (const command of [['runs'], ['tasks', 'ls']]) {
      const outcome = await run([...command, '--database-url', 'postgres://postgres@127.0.0.1:1/x']);
      assert.equal(outcome.code, 1, outcome.stderr);
      assert.match(outcome.stderr, /the database at 127\.0\.0\.1:1 refused the connection/);
    }
  });

  test('tasks run, serve: 2 for a broker that refuses the credentials or a scheme dbbeat does not know', async () => {
    assert.equal((await run(['migrate', '--database-url', database.url])).code, 0);
    const sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    try {
      await insertTask(sql, {
        name: 'exit-codes tick',
        task: 'x.tick',
        schedule: { interval: { every: 1, period: 'hours' } },
      });
    } finally {
      await sql.end();
    }
    const refused = await run([
      'tasks',
      'run',
      'exit-codes tick',
      '--database-url',
      database.url,
      '-b',
      'amqp://guest:not-the-password@127.0.0.1:5672//',
    ]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.deepEqual(messageLines(refused), [
      'dbbeat tasks: broker: RabbitMQ at 127.0.0.1:5672 refused the credentials (ACCESS_REFUSED)',
    ]);
    // serve asks the broker at start, as beat does: refused credentials can never work.
    const serveRefused = await run([
      'serve',
      '--http',
      '127.0.0.1:0',
      '--database-url',
      database.url,
      '-b',
      'amqp://guest:not-the-password@127.0.0.1:5672//',
    ]);
    assert.equal(serveRefused.code, 2, serveRefused.stderr);
    assert.deepEqual(messageLines(serveRefused), [
      'dbbeat serve: broker: RabbitMQ at 127.0.0.1:5672 refused the credentials (ACCESS_REFUSED)',
    ]);
    const scheme = await run(['serve', '--http', '127.0.0.1:0', '--database-url', database.url, '-b', 'kafka://h:1']);
    assert.equal(scheme.code, 2, scheme.stderr);
    assert.match(messageLines(scheme).join('\n'), /^dbbeat serve: broker: scheme "kafka:" is not supported/);
  });

  test('serve with a broker that is down at start: serves, with one warning naming host and port', async () => {
    assert.equal((await run(['migrate', '--database-url', database.url])).code, 0);
    const child = spawn(
      process.execPath,
      [bin, 'serve', '--http', '127.0.0.1:0', '--database-url', database.url, '-b', 'amqp://guest:guest@127.0.0.1:1//'],
      { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!/console listening/.test(output) && child.exitCode === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.match(output, /console listening/);
    assert.match(output, /broker not reachable yet: RabbitMQ at 127\.0\.0\.1:1 refused the connection/);
  });

  test('serve stopped by SIGTERM while it starts: exits 0', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'serve', '--http', '127.0.0.1:0', '--database-url', database.url, '-b', 'amqp://guest:guest@127.0.0.1:1//'],
      { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (code, signal) => resolve([code, signal])),
    );
    // The broker's warning comes before the console listens: the stop lands mid-start.
    const warned = new Promise<void>((resolve) => {
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        if (/broker not reachable yet/.test(output)) resolve();
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
    });
    await Promise.race([warned, exited]);
    child.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null], output);
  });

  // Through npx: test/package/install.test.ts runs the installed package's `npx dbbeat`
  // (--version 0, a usage error 2, SIGTERM 0). From a checkout, npm 11's npx packs the
  // checkout into its cache first, which rebuilds dist/ under the other test files.
});
