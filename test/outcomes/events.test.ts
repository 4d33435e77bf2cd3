// Run outcomes from Celery's task events, end to end: `dbbeat beat --events` sends four
// periodic tasks to a real Celery worker started with -E, over Redis and over RabbitMQ;
// one succeeds, one raises, one retries once then succeeds, one is revoked (by Celery's
// remote control, before it runs). dbbeat_run gets each run's state, times, runtime,
// worker, result, exception and traceback from the worker's events.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import amqp from 'amqplib';

import { runTaskId } from '../../src/beat/task-id.js';
import { migrate } from '../../src/db/migrate.js';
import { beatStoreFor, openDatabase, type OpenDatabase } from '../../src/db/open.js';
import { type BeatProcess, spawnBeat } from '../support/beat-process.js';
import { type CeleryWorker, startCeleryWorker } from '../support/celery/worker.js';
import { createTempDatabase, type TempDatabase } from '../support/postgres.js';
import { parseMetrics, sampleValue, histogramOf } from '../support/prometheus.js';
import { freePort, PrivateRedis } from '../support/private-redis.js';
import { insertTask } from '../support/rows.js';
import { waitFor } from '../support/wait.js';

const redisServer = await PrivateRedis.start(); // this file's own
after(() => redisServer.remove());
const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';
const WAIT_MS = 60_000;
const TASKS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../support/celery');

const unique = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

/** A row of dbbeat_run as the test reads it. */
interface RunRow extends Record<string, unknown> {
  periodic_task_name: string;
  task_id: string;
  state: string;
  sent_at: Date;
  received_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  runtime: number | null;
  worker: string | null;
  result: string | null;
  exception_type: string | null;
  exception_message: string | null;
  traceback: string | null;
}

/** Revokes a task id through Celery's remote control (app.control.revoke); returns the replying workers. */
async function revoke(brokerUrl: string, taskId: string, eventExchange: string | undefined): Promise<string[]> {
  const script = [
    'import json, sys',
    'from dbbeat_test_tasks import app',
    'replies = app.control.revoke(sys.argv[1], reply=True, timeout=5)',
    'print(json.dumps([name for reply in replies for name in reply]))',
  ].join('\n');
  const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', script, taskId], {
    cwd: TASKS_DIR,
    env: {
      ...process.env,
      PYTHONPATH: TASKS_DIR,
      DBBEAT_TEST_BROKER_URL: brokerUrl,
      DBBEAT_TEST_RECORD_FILE: '/dev/null',
      ...(eventExchange !== undefined && { DBBEAT_TEST_EVENT_EXCHANGE: eventExchange }),
    },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as string[];
}

const brokers = [
  // Redis: the default event exchange (celeryev) on this file's own server.
  { name: 'Redis', url: redisServer.url(), exchange: undefined },
  // RabbitMQ is shared: an event exchange of this test's own keeps other workers' events out.
  { name: 'RabbitMQ', url: AMQP_URL, exchange: unique('celeryev_test') },
];

for (const broker of brokers) {
  describe(`run outcomes from Celery events over ${broker.name}`, () => {
    let temp: TempDatabase | undefined;
    let db: OpenDatabase | undefined;
    let worker: CeleryWorker | undefined;
    let beat: BeatProcess | undefined;
    const queue = unique('dbbeat_events');

    after(async () => {
      await beat?.stop();
      await worker?.stop();
      if (broker.url === AMQP_URL) {
        const connection = await amqp.connect(AMQP_URL);
        const channel = await connection.createChannel();
        await channel.deleteQueue(queue).catch(() => undefined);
        if (broker.exchange !== undefined) await channel.deleteExchange(broker.exchange).catch(() => undefined);
        await connection.close();
      }
      await db?.close();
      await temp?.drop();
    });

    test('succeeded, failed, retried then succeeded, revoked: state, times, runtime, worker, exception', async () => {
      temp = await createTempDatabase('dbbeat_events');
      db = await openDatabase({ databaseUrl: temp.url });
      await migrate(db);
      const installation = await beatStoreFor(db).installationId();
      assert.ok(installation);
      worker = await startCeleryWorker({
        brokerUrl: broker.url,
        queues: [queue],
        events: true,
        ...(broker.exchange !== undefined && { eventExchange: broker.exchange }),
      });

      const httpPort = await freePort();
      beat = spawnBeat({
        databaseUrl: temp.url,
        brokerUrl: broker.url,
        extraArgs: [
          '--events',
          ...(broker.exchange !== undefined ? ['--event-exchange', broker.exchange] : []),
          '--http',
          `127.0.0.1:${httpPort}`,
        ],
      });
      // Events published before dbbeat subscribes are not seen (PUB/SUB, a queue of its own):
      // the runs are added once it listens.
      await beat.waitForLine((line) => /^Celery events: (subscribed|consuming)/.test(line.msg), WAIT_MS);

      // One-off clocked runs, all due at `at`: their task ids are known before they are sent.
      // Far enough ahead for the revoke below (a Python process) on a loaded machine.
      const at = new Date(Math.ceil((Date.now() + 15_000) / 1000) * 1000);
      const pgQuery = {
        query: async (sql: string, params?: unknown[]) => ({ rows: await db!.query(sql, params) }),
      } as never;
      const ids: Record<string, number> = {};
      for (const [name, task, args] of [
        ['ok', 'dbbeat_test.outcome_ok', '[1, 2, 3]'],
        ['fail', 'dbbeat_test.outcome_fail', '[7]'],
        ['retry', 'dbbeat_test.outcome_retry', '[]'],
        ['revoked', 'dbbeat_test.outcome_sleep', '[5]'],
      ] as const) {
        ids[name] = await insertTask(pgQuery, {
          name,
          task,
          args,
          queue,
          oneOff: true,
          schedule: { clocked: { clocked_time: at } },
        });
      }
      // Revoked before it is even sent: the worker discards it on arrival (task-revoked).
      const revokedId = runTaskId(installation, ids.revoked!, at);
      assert.ok((await revoke(broker.url, revokedId, broker.exchange)).includes(worker.nodeName));
      assert.ok(Date.now() < at.getTime() - 500, 'the revoke reached the worker before the run is due');

      const database = db;
      const rows = await waitFor(
        'four finished runs',
        async () => {
          const found = await database.query<RunRow>('SELECT * FROM dbbeat_run ORDER BY periodic_task_name');
          const finished = found.filter((r) => ['SUCCESS', 'FAILURE', 'REVOKED'].includes(r.state));
          return finished.length === 4 ? found : undefined;
        },
        {
          timeoutMs: WAIT_MS,
          intervalMs: 100,
          explain: async () =>
            JSON.stringify(
              (await database.query<RunRow>('SELECT * FROM dbbeat_run')).map((r) => [r.periodic_task_name, r.state]),
            ) +
            `\nbeat: ${beat!.lines.map((l) => `${l.time} ${l.msg}`).join('\n')}\nworker: ${worker!.log().slice(-3000)}`,
        },
      );
      const run = (name: string) => rows.find((r) => r.periodic_task_name === name)!;
      const records = await worker.records();

      const ok = run('ok');
      assert.equal(ok.state, 'SUCCESS');
      assert.equal(ok.worker, worker.nodeName);
      assert.equal(ok.result, "{'sum': 6, 'who': 'outcome_ok'}");
      assert.ok(ok.runtime !== null && ok.runtime >= 0.05 && ok.runtime < 10, `runtime ${ok.runtime}`);
      assert.ok(ok.received_at && ok.started_at && ok.finished_at);
      // received, started, finished by the worker's clock; sent by the beat's (the database's): a little skew.
      assert.ok(ok.received_at <= ok.started_at && ok.started_at <= ok.finished_at);
      assert.ok(Math.abs(ok.received_at.getTime() - ok.sent_at.getTime()) < 5000);
      const executed = records.find((r) => r.id === ok.task_id)!;
      assert.ok(Math.abs(executed.received_at * 1000 - ok.started_at.getTime()) < 1000, 'started when it ran');
      assert.deepEqual([ok.exception_type, ok.exception_message, ok.traceback], [null, null, null]);

      const fail = run('fail');
      assert.equal(fail.state, 'FAILURE');
      assert.equal(fail.worker, worker.nodeName);
      assert.equal(fail.exception_type, 'DbbeatTestError');
      assert.equal(fail.exception_message, 'failed on purpose: [7]');
      assert.match(fail.traceback ?? '', /^Traceback \(most recent call last\):/);
      assert.match(fail.traceback ?? '', /raise DbbeatTestError\(/);
      assert.match(fail.traceback ?? '', /DbbeatTestError: failed on purpose: \[7\]\n?$/);
      assert.ok(fail.finished_at && fail.started_at && fail.finished_at >= fail.started_at);
      assert.equal(fail.result, null);

      const retry = run('retry');
      assert.equal(retry.state, 'SUCCESS');
      assert.equal(retry.result, "'retried 1 time(s)'");
      assert.equal(records.filter((r) => r.id === retry.task_id).length, 2, 'ran twice under one task id');
      assert.deepEqual([retry.exception_type, retry.traceback], [null, null], 'the success replaced the retry reason');
      assert.ok(retry.runtime !== null && retry.runtime < 10);

      const revoked = run('revoked');
      assert.equal(revoked.task_id, revokedId);
      assert.equal(revoked.state, 'REVOKED');
      assert.deepEqual([revoked.exception_type, revoked.exception_message], ['TaskRevokedError', 'revoked']);
      assert.equal(revoked.worker, worker.nodeName);
      assert.equal(revoked.started_at, null);
      assert.equal(records.filter((r) => r.id === revokedId).length, 0, 'a revoked task does not run');

      // What a Prometheus scrape sees matches the rows: each run counted once per state it entered.
      const metrics = parseMetrics(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text());
      const outcome = (state: string) => sampleValue(metrics, 'dbbeat_run_outcomes_total', { state }) ?? 0;
      const finished = (state: string) => rows.filter((r) => r.state === state).length;
      assert.deepEqual(
        ['SUCCESS', 'FAILURE', 'REVOKED'].map(outcome),
        ['SUCCESS', 'FAILURE', 'REVOKED'].map(finished),
        'outcome counters against dbbeat_run',
      );
      // RETRY is not asserted: a retry and its next delivery often fold into one batch, so the
      // run never sits in RETRY (counted only when a run's stored state changes).
      assert.equal(histogramOf(metrics, 'dbbeat_run_runtime_seconds')?.count, 2, 'runtimes of the two successes');
    });
  });
}
