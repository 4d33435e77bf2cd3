// Celery's remote control against a real Celery 5 worker, over Redis (this file's own
// redis-server) and RabbitMQ (a control exchange of this file's own, so workers of other
// test files on the shared RabbitMQ do not answer): ping finds the worker, `registered`
// lists its tasks, `active_queues` its queues; with no worker a call ends at once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import {
  activeQueues,
  connectRemoteControl,
  ping,
  registeredTasks,
  type RemoteControl,
} from '../../src/outcomes/remote-control.js';
import { inspectWorkers, registrationOf } from '../../src/outcomes/remote-control-workers.js';
import { type CeleryWorker, startCeleryWorker } from '../support/celery/worker.js';
import { pingUntilAnswered } from '../support/celery/remote-control.js';
import { PrivateRedis } from '../support/private-redis.js';

const AMQP_URL = process.env.DBBEAT_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672/';

const redisServer = await PrivateRedis.start();
after(() => redisServer.remove());

const brokers = [
  { name: 'Redis', url: redisServer.url(3), controlExchange: undefined },
  { name: 'RabbitMQ', url: AMQP_URL, controlExchange: `dbbeat_rc_${randomBytes(4).toString('hex')}` },
];

for (const broker of brokers) {
  describe(`remote control over ${broker.name}`, () => {
    const queue = `dbbeat_rc_${randomBytes(4).toString('hex')}`;
    let control: RemoteControl;
    let worker: CeleryWorker | undefined;

    before(async () => {
      control = await connectRemoteControl(broker.url, { controlExchange: broker.controlExchange });
    });
    after(async () => {
      await worker?.stop();
      await control.close();
    });

    test('with no worker, ping answers nothing at once (the broker says nobody got it)', async () => {
      const started = Date.now();
      assert.deepEqual(await ping(control, { timeoutMs: 5000 }), []);
      assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
    });

    test('ping, registered and active_queues reach a real worker', async () => {
      worker = await startCeleryWorker({
        brokerUrl: broker.url,
        queues: [queue, 'celery'],
        ...(broker.controlExchange !== undefined && { controlExchange: broker.controlExchange }),
      });
      const hosts = await pingUntilAnswered(control);
      assert.equal(hosts.length, 1, worker.log().slice(-2000));
      const hostname = hosts[0]!;
      assert.match(hostname, /^dbbeat-test-[0-9a-f]{8}@/);

      const registered = await registeredTasks(control);
      assert.deepEqual([...registered.keys()], [hostname]);
      const tasks = registered.get(hostname)!;
      assert.ok(tasks.includes('dbbeat_test.record'), tasks.join(', '));
      assert.ok(tasks.includes('dbbeat_test.other'));
      assert.ok(tasks.includes('celery.backend_cleanup'), 'built-ins are asked for too');

      const queues = await activeQueues(control);
      assert.deepEqual(
        queues
          .get(hostname)!
          .map((q) => q.name)
          .sort(),
        ['celery', queue].sort(),
      );
      const mine = queues.get(hostname)!.find((q) => q.name === queue)!;
      assert.deepEqual(mine, { name: queue, exchange: queue, exchangeType: 'direct', routingKey: queue });

      // With a worker, Redis knows how many got the command and returns when it answered.
      if (broker.name === 'Redis') {
        const started = Date.now();
        assert.deepEqual(await ping(control, { timeoutMs: 10_000 }), [hostname]);
        assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      }

      const workers = await inspectWorkers(control);
      assert.equal(workers.length, 1);
      const row = (task: string, q: string | null) => ({ task, queue: q, exchange: null, routingKey: null });
      assert.equal(registrationOf(row('dbbeat_test.record', queue), workers), 'registered');
      assert.equal(registrationOf(row('dbbeat_test.recrod', queue), workers), 'unregistered');
      assert.equal(registrationOf(row('dbbeat_test.record', null), workers), 'registered');
      assert.equal(registrationOf(row('dbbeat_test.record', 'nobody_consumes_this'), workers), 'no worker for queue');
      assert.equal(registrationOf(row('dbbeat_test.record', queue), []), 'unknown');
    });
  });
}
