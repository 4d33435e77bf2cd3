// Unregistered-task flags with a real Celery worker, over Redis (this file's own
// redis-server) and RabbitMQ (a control exchange of this file's own): GET /api/workers
// lists the worker with its queue and tasks; GET /api/tasks and `dbbeat tasks ls
// --check-workers` flag a misspelled task `unregistered`, a task whose queue (by its row
// or by task_routes) no worker consumes `no worker for queue`, a correct one `registered`,
// a disabled one not at all; with no worker running, `unknown` and no waiting.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';

import pg from 'pg';
import pino from 'pino';

import { DEFAULT_ROUTING, type RoutingSettings } from '../../src/broker/routing.js';
import { buildConsoleServer } from '../../src/http/server.js';
import { migrate } from '../../src/db/migrate.js';
import { openDatabase, type OpenDatabase } from '../../src/db/open.js';
import { connectRemoteControl, type RemoteControl } from '../../src/outcomes/remote-control.js';
import { WorkerDirectory, inspectWorkers } from '../../src/outcomes/remote-control-workers.js';
import { connectBroker } from '../../src/broker/index.js';
import { pingUntilAnswered } from '../support/celery/remote-control.js';
import { type CeleryWorker, startCeleryWorker } from '../support/celery/worker.js';
import { type CommandResult, runDbbeat } from '../support/cli.js';
import { type TempDatabase, createTempDatabase } from '../support/postgres.js';
import { PrivateRedis } from '../support/private-redis.js';
import { insertTask } from '../support/rows.js';

const AMQP_URL = process.env.DBBEAT_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672/';
const TOKEN = 'workers-test-token-0123456789';
const suffix = randomBytes(4).toString('hex');
const QUEUE = `dbbeat_wk_${suffix}`;
const ROUTED_QUEUE = `dbbeat_wk_routed_${suffix}`;
const routes = { 'dbbeat_test.other': ROUTED_QUEUE };
const routing: RoutingSettings = { ...DEFAULT_ROUTING, routes: [routes] };

/** Task name → the flag it must get while the worker (consuming QUEUE only) runs. */
const EXPECTED: Record<string, string | null> = {
  good: 'registered',
  typo: 'unregistered',
  'queue nobody consumes': 'no worker for queue',
  'routed by task_routes': 'no worker for queue',
  'disabled typo': null,
};

const redisServer = await PrivateRedis.start();
let temp: TempDatabase;
let db: OpenDatabase;

before(async () => {
  temp = await createTempDatabase('dbbeat_workers');
  db = await openDatabase({ databaseUrl: temp.url });
  await migrate(db);
  const sql = new pg.Client({ connectionString: temp.url });
  await sql.connect();
  const every = { interval: { every: 1, period: 'hours' } };
  await insertTask(sql, { name: 'good', task: 'dbbeat_test.record', schedule: every, queue: QUEUE });
  await insertTask(sql, { name: 'typo', task: 'dbbeat_test.recrod', schedule: every, queue: QUEUE });
  await insertTask(sql, {
    name: 'queue nobody consumes',
    task: 'dbbeat_test.record',
    schedule: every,
    queue: `dbbeat_wk_nobody_${suffix}`,
  });
  await insertTask(sql, { name: 'routed by task_routes', task: 'dbbeat_test.other', schedule: every });
  await insertTask(sql, {
    name: 'disabled typo',
    task: 'dbbeat_test.recrod',
    schedule: every,
    queue: QUEUE,
    enabled: false,
  });
  await sql.end();
});
after(async () => {
  await db?.close();
  await temp?.drop();
  await redisServer.remove();
});

/** `dbbeat tasks ls --check-workers --json` (or the table) against the test database. */
function tasksLs(brokerUrl: string, controlExchange: string, json: boolean): Promise<CommandResult> {
  return runDbbeat(['tasks', 'ls', '--check-workers', '--database-url', temp.url, ...(json ? ['--json'] : [])], {
    CELERY_BROKER_URL: brokerUrl,
    CELERY_CONTROL_EXCHANGE: controlExchange,
    CELERY_TASK_ROUTES: JSON.stringify(routes),
    DATABASE_URL: '',
  });
}

const flagsOf = (items: { name: string; registration?: string | null }[]) =>
  Object.fromEntries(items.map((item) => [item.name, item.registration ?? null]));

const brokers = [
  { name: 'Redis', url: redisServer.url(), controlExchange: 'celery' },
  { name: 'RabbitMQ', url: AMQP_URL, controlExchange: `dbbeat_wk_${suffix}` },
];

for (const broker of brokers) {
  describe(`worker check over ${broker.name}`, () => {
    let control: RemoteControl;
    let worker: CeleryWorker | undefined;
    let console_: Awaited<ReturnType<typeof buildConsoleServer>>;
    let runBroker: Awaited<ReturnType<typeof connectBroker>>;
    const get = async (url: string) => {
      const response = await console_.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(response.statusCode, 200, response.body);
      return response.json<Record<string, unknown>>();
    };

    before(async () => {
      control = await connectRemoteControl(broker.url, { controlExchange: broker.controlExchange });
      runBroker = await connectBroker(broker.url);
      console_ = await buildConsoleServer({
        database: db,
        broker: runBroker,
        auth: { token: TOKEN, users: new Map(), required: true },
        host: '127.0.0.1',
        port: 0,
        log: pino({ level: 'silent' }, new Writable({ write: (_chunk, _encoding, done) => done() })),
        workers: new WorkerDirectory(control),
        routing,
      });
      await console_.app.ready();
    });
    after(async () => {
      await worker?.stop();
      await console_.app.close();
      await console_.context.prisma.$disconnect();
      await runBroker.close();
      await control.close();
    });

    test('no worker: every enabled task unknown, and asking does not wait out the timeout', async () => {
      const started = Date.now();
      assert.deepEqual(await inspectWorkers(control, { timeoutMs: 5000 }), []);
      assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
      const list = (await get('/api/tasks?limit=50')) as { items: { name: string; registration?: string | null }[] };
      assert.deepEqual(flagsOf(list.items), {
        good: 'unknown',
        typo: 'unknown',
        'queue nobody consumes': 'unknown',
        'routed by task_routes': 'unknown',
        'disabled typo': null,
      });
      const cli = await tasksLs(broker.url, broker.controlExchange, false);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /WORKERS/);
      assert.match(cli.stdout, /no worker answered within 1000 ms/);
    });

    test('a real worker: listed with its queue and tasks; a misspelled task and unserved queues are flagged', async () => {
      worker = await startCeleryWorker({
        brokerUrl: broker.url,
        queues: [QUEUE],
        controlExchange: broker.controlExchange,
      });
      const [hostname] = await pingUntilAnswered(control);
      assert.ok(hostname, worker.log().slice(-2000));

      const answer = (await get('/api/workers?refresh=true')) as {
        error: string | null;
        workers: { hostname: string; queues: { name: string }[]; registeredCount: number; registered: string[] }[];
      };
      assert.equal(answer.error, null);
      assert.equal(answer.workers.length, 1);
      const [seen] = answer.workers;
      assert.equal(seen!.hostname, hostname);
      assert.deepEqual(
        seen!.queues.map((queue) => queue.name),
        [QUEUE],
      );
      assert.ok(seen!.registered.includes('dbbeat_test.record'));
      assert.equal(seen!.registeredCount, seen!.registered.length);

      const list = (await get('/api/tasks?limit=50')) as {
        items: { id: number; name: string; registration?: string }[];
      };
      assert.deepEqual(flagsOf(list.items), EXPECTED);
      const typo = list.items.find((item) => item.name === 'typo')!;
      assert.equal(((await get(`/api/tasks/${typo.id}`)) as { registration: string }).registration, 'unregistered');

      const json = await tasksLs(broker.url, broker.controlExchange, true);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(flagsOf(JSON.parse(json.stdout) as { name: string; registration: string | null }[]), EXPECTED);
      const text = await tasksLs(broker.url, broker.controlExchange, false);
      assert.equal(text.code, 0, text.stderr);
      const lineOf = (name: string) => text.stdout.split('\n').find((line) => line.startsWith(`${name}  `)) ?? '';
      assert.match(lineOf('typo'), /unregistered$/);
      assert.match(lineOf('good'), /registered$/);
      assert.doesNotMatch(lineOf('good'), /unregistered/);
      assert.match(
        text.stdout,
        new RegExp(`workers: ${hostname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(${QUEUE}\\)`),
      );
    });
  });
}
