// Outcomes from Celery's result backend, with a real Celery worker whose events are off:
// the beat sends a task that succeeds and one that raises, the worker stores their outcomes
// in its result backend (Redis; django-celery-results and Celery's celery_taskmeta on
// PostgreSQL and on MariaDB), and dbbeat reads them into dbbeat_run and through asyncResult.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import pg from 'pg';

import { type BeatHandle, startBeat } from '../../src/beat/index.js';
import { migrate } from '../../src/db/migrate.js';
import { openDatabase, runStoreFor, type OpenDatabase } from '../../src/db/open.js';
import type { RunStore } from '../../src/db/run-store.js';
import { ResultTimeoutError, TaskFailedError, asyncResult } from '../../src/outcomes/async-result.js';
import type { ResultBackend } from '../../src/outcomes/result-backend.js';
import { openResultBackend } from '../../src/outcomes/result-backend-open.js';
import { ResultBackendPoller } from '../../src/outcomes/result-backend-poller.js';
import { type CeleryWorker, startCeleryWorker } from '../support/celery/worker.js';
import { createTempMysqlDatabase, type TempMysqlDatabase } from '../support/mysql.js';
import { createTempDatabase, type TempDatabase } from '../support/postgres.js';
import { PrivateRedis } from '../support/private-redis.js';
import { insertTask } from '../support/rows.js';
import { waitFor } from '../support/wait.js';

const WAIT_MS = 30_000;
const TASKS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../support/celery');

const redis = await PrivateRedis.start(); // this file's own: broker on db 0, results on db 1
after(() => redis.remove());

let temp: TempDatabase;
let db: OpenDatabase;
let pool: pg.Pool;
let runStore: RunStore;
const cleanups: (() => Promise<unknown>)[] = [];

/** Registers this database (not whichever the case's variable names by then) for dropping after the file. */
function droppedAfter<T extends { drop(): Promise<void> }>(database: T): T {
  cleanups.push(() => database.drop());
  return database;
}

before(async () => {
  temp = await createTempDatabase();
  db = await openDatabase({ databaseUrl: temp.url });
  await migrate(db);
  runStore = runStoreFor(db);
  pool = new pg.Pool({ connectionString: temp.url, max: 2 });
});
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await pool.end();
  await db.close();
  await temp.drop();
});

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined };

/** Creates django-celery-results' tables the way a Django project does: `manage.py migrate`. */
async function migrateDjangoCeleryResults(databaseUrl: string): Promise<void> {
  await promisify(execFile)('/usr/bin/python3', ['-m', 'django', 'migrate', 'django_celery_results', '-v', '0'], {
    cwd: TASKS_DIR,
    env: {
      ...process.env,
      PYTHONPATH: TASKS_DIR,
      DJANGO_SETTINGS_MODULE: 'dbbeat_results_settings',
      DBBEAT_TEST_RESULTS_DB_URL: databaseUrl,
    },
  });
}

interface RunRow {
  periodic_task_name: string;
  task_id: string;
  state: string;
  result: string | null;
  exception_type: string | null;
  exception_message: string | null;
  traceback: string | null;
  finished_at: Date | null;
  worker: string | null;
}

async function runsOf(names: string[]): Promise<Map<string, RunRow>> {
  const { rows } = await pool.query<RunRow>(
    `SELECT periodic_task_name, task_id, state, result, exception_type, exception_message, traceback, finished_at, worker
       FROM dbbeat_run WHERE periodic_task_name = ANY($1)`,
    [names],
  );
  return new Map(rows.map((r) => [r.periodic_task_name, r]));
}

interface Sent {
  add: string;
  fail: string;
  names: string[];
  message: string;
}

/**
 * A task that succeeds and one that raises, each sent once by a real beat (an hourly
 * interval last run days ago: one catch-up run) to `queue`; resolves once the worker ran both.
 */
async function sendTwo(worker: CeleryWorker, queue: string, beatOptions: Parameters<typeof startBeat>[0] = {}) {
  const tag = randomBytes(3).toString('hex');
  const names = [`add_${tag}`, `fail_${tag}`];
  const message = `boom ${tag}`;
  const every = { interval: { every: 1, period: 'hours' } };
  const lastRunAt = new Date(Date.now() - 3 * 86_400_000);
  await insertTask(pool, {
    name: names[0]!,
    task: 'dbbeat_test.result_add',
    args: '[2, 3]',
    schedule: every,
    queue,
    lastRunAt,
  });
  await insertTask(pool, {
    name: names[1]!,
    task: 'dbbeat_test.result_fail',
    args: JSON.stringify([message]),
    schedule: every,
    queue,
    lastRunAt,
  });
  const beat: BeatHandle = await startBeat({
    databaseUrl: temp.url,
    brokerUrl: redis.url(),
    migrate: false,
    logLevel: 'ERROR',
    maxInterval: 1,
    ...beatOptions,
  });
  await beat.ready;
  const records = await worker.waitForRecords(
    (all) => names.every((name) => all.some((r) => r.periodic_task_name === name)),
    WAIT_MS,
  );
  const idOf = (name: string) => records.find((r) => r.periodic_task_name === name)!.id;
  const sent: Sent = { add: idOf(names[0]!), fail: idOf(names[1]!), names, message };
  return { beat, sent };
}

interface BackendCase {
  name: string;
  /** The URL dbbeat reads. */
  url: () => string;
  /** What the worker is told (Celery's result_backend), and its Django database for django-db. */
  worker: () => { resultBackend: string; resultsDatabaseUrl?: string; resultExtended?: boolean };
  setUp?: () => Promise<void>;
}

let resultsPg: TempDatabase;
let resultsMysql: TempMysqlDatabase;

const cases: BackendCase[] = [
  { name: 'Redis', url: () => redis.url(1), worker: () => ({ resultBackend: redis.url(1) }) },
  {
    name: 'Redis with result_extended',
    url: () => redis.url(3),
    worker: () => ({ resultBackend: redis.url(3), resultExtended: true }),
  },
  {
    name: 'django-celery-results on PostgreSQL (django-db: the beat database)',
    url: () => 'django-db',
    // django-celery-results 2.4 stores the traceback and worker only with result_extended.
    worker: () => ({ resultBackend: 'django-db', resultsDatabaseUrl: temp.url, resultExtended: true }),
    setUp: () => migrateDjangoCeleryResults(temp.url),
  },
  {
    name: 'Celery celery_taskmeta on PostgreSQL (db+postgresql://)',
    url: () => `db+${resultsPg.url.replace(/^postgres:/, 'postgresql:')}`,
    worker: () => ({ resultBackend: `db+${resultsPg.url.replace(/^postgres:/, 'postgresql:')}` }),
    setUp: async () => {
      resultsPg = droppedAfter(await createTempDatabase());
    },
  },
  {
    name: 'django-celery-results on MariaDB (mysql://)',
    url: () => resultsMysql.url,
    worker: () => ({ resultBackend: 'django-db', resultsDatabaseUrl: resultsMysql.url, resultExtended: true }),
    setUp: async () => {
      resultsMysql = droppedAfter(await createTempMysqlDatabase());
      await migrateDjangoCeleryResults(resultsMysql.url);
    },
  },
  {
    name: 'Celery celery_taskmeta on MariaDB (db+mysql://)',
    url: () => `db+${resultsMysql.url}`,
    worker: () => ({ resultBackend: `db+${resultsMysql.url}` }),
    setUp: async () => {
      resultsMysql = droppedAfter(await createTempMysqlDatabase());
    },
  },
];

for (const backendCase of cases) {
  describe(`result backend: ${backendCase.name}, worker events off`, () => {
    let worker: CeleryWorker;
    let backend: ResultBackend;
    let sent: Sent;
    const queue = `rb_${randomBytes(4).toString('hex')}`;

    before(async () => {
      await backendCase.setUp?.();
      worker = await startCeleryWorker({ brokerUrl: redis.url(), queues: [queue], ...backendCase.worker() });
      backend = openResultBackend(backendCase.url(), { databaseUrl: temp.url });
      const started = await sendTwo(worker, queue);
      await started.beat.stop();
      sent = started.sent;
      // The worker stores the outcome after the task returns: wait until both are there.
      await waitFor('both outcomes stored', async () => {
        const stored = await backend.getMany([sent.add, sent.fail]);
        return stored.get(sent.add)?.state === 'SUCCESS' && stored.get(sent.fail)?.state === 'FAILURE'
          ? true
          : undefined;
      });
    });
    after(async () => {
      await worker?.stop();
      await backend?.close();
    });

    test('one poll fills the runs: SUCCESS with the value, FAILURE with the exception and traceback', async () => {
      assert.equal(worker.log().includes('task-'), false, 'the worker sends no events');
      const before = await runsOf(sent.names);
      assert.deepEqual(
        [...before.values()].map((r) => r.state),
        ['SENT', 'SENT'],
      );
      const poller = new ResultBackendPoller(runStore, backend, quiet, () => true);
      const report = await poller.pollOnce();
      assert.ok(report.found >= 2, `found ${report.found}`);
      const rows = await runsOf(sent.names);
      const add = rows.get(sent.names[0]!)!;
      assert.equal(add.task_id, sent.add);
      assert.equal(add.state, 'SUCCESS');
      // The value as JSON text, ints with every digit (2**64).
      assert.equal(add.result, '{"sum":5,"big":18446744073709551616}');
      assert.ok(add.finished_at instanceof Date && Math.abs(add.finished_at.getTime() - Date.now()) < 120_000);
      const fail = rows.get(sent.names[1]!)!;
      assert.equal(fail.state, 'FAILURE');
      assert.equal(fail.exception_type, 'ValueError');
      assert.equal(fail.exception_message, sent.message);
      assert.match(fail.traceback ?? '', /^Traceback \(most recent call last\):/);
      assert.match(fail.traceback ?? '', new RegExp(`ValueError: ${sent.message}\\s*$`));
      assert.equal(fail.result, null);
      // The worker's name is kept by the backends with result_extended (Redis and django-celery-results).
      const extended = backendCase.worker().resultExtended === true;
      assert.equal(add.worker?.startsWith('dbbeat-test-'), extended ? true : undefined, String(add.worker));
      // Finished runs are no longer open: the next poll asks for neither.
      const again = await poller.pollOnce();
      assert.equal(again.found, 0);
    });

    test('asyncResult: get() returns the value, throws the failure, times out on an unknown id', async () => {
      const options = { backend: backendCase.url(), databaseUrl: temp.url };
      const add = asyncResult(sent.add, options);
      assert.equal(await add.state(), 'SUCCESS');
      assert.deepEqual(await add.get({ timeoutMs: 10_000 }), { sum: 5, big: 2 ** 64 });
      assert.equal(await add.traceback(), null);

      const fail = asyncResult(sent.fail, { backend }); // a shared reader
      await assert.rejects(fail.get({ timeoutMs: 10_000 }), (error: unknown) => {
        assert.ok(error instanceof TaskFailedError);
        assert.equal(error.taskId, sent.fail);
        assert.equal(error.state, 'FAILURE');
        assert.equal(error.exceptionType, 'ValueError');
        assert.equal(error.exceptionMessage, sent.message);
        assert.match(error.traceback ?? '', /ValueError/);
        return true;
      });
      assert.equal(await fail.failed(), true);
      const failure = await fail.get({ propagate: false });
      assert.ok(failure instanceof TaskFailedError);

      const unknown = asyncResult(randomUUID(), options);
      assert.equal(await unknown.state(), 'PENDING');
      const started = Date.now();
      await assert.rejects(unknown.get({ timeoutMs: 300, intervalMs: 50 }), (error: unknown) => {
        assert.ok(error instanceof ResultTimeoutError);
        assert.equal(error.state, 'PENDING');
        assert.equal(error.timeoutMs, 300);
        return true;
      });
      assert.ok(Date.now() - started >= 250);
    });
  });
}

describe('the beat polls its --result-backend on the leader', () => {
  let worker: CeleryWorker;
  const queue = `rb_${randomBytes(4).toString('hex')}`;

  before(async () => {
    worker = await startCeleryWorker({ brokerUrl: redis.url(), queues: [queue], resultBackend: redis.url(2) });
  });
  after(async () => {
    await worker?.stop();
  });

  test('runs reach SUCCESS and FAILURE without any call of ours', async () => {
    const { beat, sent } = await sendTwo(worker, queue, {
      resultBackend: redis.url(2),
      resultBackendInterval: 0.2,
    });
    try {
      assert.deepEqual(beat.options.resultBackend, { url: redis.url(2), intervalMs: 200 });
      const rows = await waitFor('outcomes in dbbeat_run', async () => {
        const current = await runsOf(sent.names);
        return current.size === 2 && [...current.values()].every((r) => r.state === 'SUCCESS' || r.state === 'FAILURE')
          ? current
          : undefined;
      });
      assert.equal(rows.get(sent.names[0]!)!.state, 'SUCCESS');
      assert.equal(rows.get(sent.names[1]!)!.exception_type, 'ValueError');
    } finally {
      await beat.stop();
    }
  });
});
