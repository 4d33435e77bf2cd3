// The broker contract on RabbitMQ.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import amqp from 'amqplib';

import { connectBroker } from '../../src/broker/index.js';
import { runBrokerContract, sampleMessage, uniqueQueue, type ReadMessage } from './contract.js';

const AMQP_URL = process.env.DBBEAT_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672/';
const admin = await amqp.connect(AMQP_URL);
const channel = await admin.createChannel();
after(() => admin.close());

async function drain(queue: string): Promise<ReadMessage[]> {
  const read: ReadMessage[] = [];
  for (;;) {
    const message = await channel.get(queue, { noAck: true });
    if (!message) return read;
    const p = message.properties;
    assert.equal(p.deliveryMode, 2);
    read.push({
      headers: p.headers ?? {},
      body: JSON.parse(message.content.toString('utf8')) as ReadMessage['body'],
      contentType: String(p.contentType),
      contentEncoding: String(p.contentEncoding),
      correlationId: String(p.correlationId),
      priority: Number(p.priority ?? 0),
      expiration: p.expiration === undefined ? undefined : String(p.expiration),
      location: queue,
    });
  }
}

async function cleanup(queue: string): Promise<void> {
  await channel.deleteQueue(queue);
  // Declared with the queue, as Celery declares Queue(name, Exchange(name), name).
  await channel.deleteExchange(queue);
}

runBrokerContract({
  name: 'RabbitMQ',
  url: AMQP_URL,
  deadUrl: 'amqp://127.0.0.1:1/',
  suppressesDuplicates: false,
  drain,
  cleanup,
});

describe('RabbitMQ specifics', () => {
  test('a task exchange is declared direct and durable, and the task queue bound to it', async () => {
    const broker = await connectBroker(AMQP_URL);
    const exchange = uniqueQueue('dbbeat_exchange');
    const queue = uniqueQueue();
    try {
      const message = sampleMessage({ exchange, routingKey: 'rk', queue });
      assert.deepEqual(await broker.publish([message]), [{ id: message.id, status: 'sent' }]);
      const [read] = await drain(queue);
      assert.equal(read?.headers['id'], message.id);
    } finally {
      await broker.close();
      await channel.deleteQueue(queue);
      await channel.deleteExchange(exchange);
    }
  });

  test('after the channel is lost the publish fails, and the next one reopens and succeeds', async () => {
    const broker = await connectBroker(AMQP_URL);
    const exchange = uniqueQueue('dbbeat_exchange');
    const queue = uniqueQueue();
    const message = (): ReturnType<typeof sampleMessage> => sampleMessage({ exchange, routingKey: 'rk', queue });
    try {
      assert.equal((await broker.publish([message()]))[0]?.status, 'sent');
      // The broker remembers it declared the exchange; deleting it behind its
      // back makes the server close the channel (404) on the next publish.
      await channel.deleteExchange(exchange);
      const lost = await broker.publish([message()]).then(
        ([outcome]) => outcome?.status,
        (error: Error) => error.message,
      );
      assert.match(String(lost), /failed/);
      assert.equal((await broker.publish([message()]))[0]?.status, 'sent');
      assert.equal((await drain(queue)).length, 2);
    } finally {
      await broker.close();
      await channel.deleteQueue(queue);
      await channel.deleteExchange(exchange);
    }
  });
});
