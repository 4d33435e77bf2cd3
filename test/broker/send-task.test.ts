// sendTask produces what Celery's own `app.send_task` produces: Python's Celery (Debian's
// python3-celery) and our sendTask each send the same call, on Redis and on RabbitMQ,
// and the two messages are compared field by field (only the sender's identity, the
// delivery tag and the clock-dependent eta/expires may differ, and those by less than
// a few seconds).
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-explicit-any --
   Both envelopes are read as loose JSON (`any`) and compared field by field. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

import amqp from 'amqplib';
import { Redis } from 'ioredis';

import { connectBroker } from '../../src/broker/index.js';
import { SendTaskError, sendTask, sendTaskMessage } from '../../src/broker/send-task.js';
import { withPrivateRedis } from '../support/private-redis.js';
import { uniqueQueue } from './contract.js';

const AMQP_URL = process.env.DBBEAT_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672/';
const SEP = '\x06\x16';

const privateRedis = withPrivateRedis();

/** Celery's send_task with the same arguments, from Python. */
function pythonSendTask(brokerUrl: string, queue: string, taskId: string): void {
  const script = `
import sys
from celery import Celery
app = Celery('compare', broker=sys.argv[1])
app.conf.broker_connection_retry_on_startup = True
app.send_task('tasks.add', args=[2, 3.5, 'x'], kwargs={'k': [1, None]}, queue=sys.argv[2], priority=5,
              countdown=60, expires=120, headers={'tenant': 'acme'}, task_id=sys.argv[3])
`;
  const result = spawnSync('/usr/bin/python3', ['-c', script, brokerUrl, queue, taskId], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 0, result.stderr);
}

const ourCall = (queue: string, taskId: string) =>
  [
    'tasks.add',
    [2, 3.5, 'x'],
    { k: [1, null] },
    { queue, priority: 5, countdown: 60, expires: 120, headers: { tenant: 'acme' }, taskId },
  ] as const;

// Python writes 3.5 the same; kombu's JSON has no spaces after separators in the body? compare decoded values.
function closeTimes(a: unknown, b: unknown, what: string): void {
  assert.equal(typeof a, 'string', what);
  assert.match(String(a), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/, `${what}: Python's isoformat`);
  assert.ok(Math.abs(Date.parse(String(a)) - Date.parse(String(b))) < 10_000, `${what}: ${String(a)} vs ${String(b)}`);
}

function compareHeaders(ours: Record<string, unknown>, theirs: Record<string, unknown>): void {
  assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort(), 'the same header keys');
  for (const key of Object.keys(theirs)) {
    if (key === 'origin') continue; // gen<pid>@<host>: the sender's own
    if (key === 'eta' || key === 'expires') closeTimes(ours[key], theirs[key], key);
    else assert.deepEqual(ours[key], theirs[key], `header ${key}`);
  }
}

test('Redis: the same envelope as Celery send_task (queue, priority list, headers, properties, body)', async () => {
  const client = new Redis(privateRedis().url());
  const broker = await connectBroker(privateRedis().url());
  try {
    const [pyQueue, ourQueue] = [uniqueQueue('send_py'), uniqueQueue('send_ts')];
    pythonSendTask(privateRedis().url(), pyQueue, 'same-id-redis');
    const [name, args, kwargs, options] = ourCall(ourQueue, 'same-id-redis');
    assert.equal(await sendTask(name, [...args], { ...kwargs }, { ...options, broker }), 'same-id-redis');
    // Priority 5 goes to the list of step 3, in both.
    const theirs = JSON.parse((await client.lrange(`${pyQueue}${SEP}3`, 0, -1))[0]!) as Record<string, any>;
    const ours = JSON.parse((await client.lrange(`${ourQueue}${SEP}3`, 0, -1))[0]!) as Record<string, any>;
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort());
    compareHeaders(ours.headers, theirs.headers);
    assert.deepEqual(
      JSON.parse(Buffer.from(ours.body, 'base64').toString()),
      JSON.parse(Buffer.from(theirs.body, 'base64').toString()),
    );
    for (const key of ['content-type', 'content-encoding']) assert.equal(ours[key], theirs[key]);
    const props = (p: Record<string, any>): Record<string, any> => ({
      ...p,
      delivery_tag: '-',
      reply_to: '-',
      delivery_info: { ...p.delivery_info, routing_key: '-' },
    });
    assert.deepEqual(Object.keys(ours.properties).sort(), Object.keys(theirs.properties).sort());
    const { expiration: ourExpiration, ...ourProps } = props(ours.properties);
    const { expiration: theirExpiration, ...theirProps } = props(theirs.properties);
    assert.deepEqual(ourProps, theirProps);
    assert.ok(
      Math.abs(Number(ourExpiration) - Number(theirExpiration) * (Number(theirExpiration) < 1000 ? 1000 : 1)) < 10_000,
      `expiration ${ourExpiration} vs ${theirExpiration}`,
    );
    assert.equal(ours.properties.delivery_info.routing_key, ourQueue);
  } finally {
    client.disconnect();
    await broker.close();
  }
});

test('RabbitMQ: the same properties and headers as Celery send_task', async () => {
  const [pyQueue, ourQueue] = [uniqueQueue('send_py'), uniqueQueue('send_ts')];
  pythonSendTask(AMQP_URL, pyQueue, 'same-id-amqp');
  const [name, args, kwargs, options] = ourCall(ourQueue, 'same-id-amqp');
  assert.equal(await sendTask(name, [...args], { ...kwargs }, { ...options, broker: AMQP_URL }), 'same-id-amqp');
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  try {
    const theirs = await channel.get(pyQueue, { noAck: true });
    const ours = await channel.get(ourQueue, { noAck: true });
    assert.ok(theirs && ours, 'both messages arrived');
    compareHeaders(
      ours.properties.headers as Record<string, unknown>,
      theirs.properties.headers as Record<string, unknown>,
    );
    for (const key of ['contentType', 'contentEncoding', 'deliveryMode', 'priority', 'correlationId'] as const) {
      assert.deepEqual(ours.properties[key], theirs.properties[key], key);
    }
    assert.ok(Math.abs(Number(ours.properties.expiration) - Number(theirs.properties.expiration)) < 10_000);
    assert.deepEqual(JSON.parse(ours.content.toString()), JSON.parse(theirs.content.toString()));
    assert.equal(ours.fields.routingKey, ourQueue);
  } finally {
    await channel.deleteQueue(pyQueue).catch(() => undefined);
    await channel.deleteQueue(ourQueue).catch(() => undefined);
    await connection.close();
  }
});

test('arguments Celery would refuse are errors naming the argument', () => {
  assert.throws(
    () => sendTaskMessage('', []),
    (error: unknown) => error instanceof SendTaskError && /^name:/.test(error.message),
  );
  assert.throws(
    () => sendTaskMessage('t', {} as unknown as unknown[]),
    /^SendTaskError: args: \{\} is not a list$|args: \{\} is not a list/,
  );
  assert.throws(() => sendTaskMessage('t', [], {}, { countdown: 1, eta: new Date() }), /countdown, eta: give only one/);
  assert.throws(() => sendTaskMessage('t', [], {}, { priority: 256 }), /priority: 256 is not an integer in 0-255/);
  const now = new Date('2026-01-01T00:00:00Z');
  const message = sendTaskMessage('t', [], {}, { countdown: 1.5, expires: 60 }, now);
  assert.equal(message.eta?.toISOString(), '2026-01-01T00:00:01.500Z');
  assert.equal(message.expires?.toISOString(), '2026-01-01T00:01:00.000Z');
  assert.equal(message.periodicTaskName, null);
  assert.match(message.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
