// Remote control over RabbitMQ: kombu's pidbox with real exchanges (kombu/pidbox.py).
// - `<control_exchange>.pidbox`: fanout, not durable (as the workers declare it, else
//   PRECONDITION_FAILED); each worker binds its queue `<hostname>.<control_exchange>.pidbox`.
// - `reply.<control_exchange>.pidbox`: direct, not durable. The caller declares its reply
//   queue `<id>.reply.<control_exchange>.pidbox` (not durable, auto-delete, x-expires 10 s,
//   x-message-ttl 300 s: Celery's control_queue_expires / control_queue_ttl) bound with
//   routing key `<id>`, and names both in the command's reply_to.
// The command is published `mandatory`: when no worker's queue is bound it comes back
// before its confirm, and the call ends at once instead of waiting out the timeout.
// Otherwise RabbitMQ does not say how many queues took it, so replies are collected until
// the timeout, as kombu's _collect does.
import { randomUUID } from 'node:crypto';

import amqp from 'amqplib';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';

import {
  type BroadcastOptions,
  DEFAULT_INSPECT_TIMEOUT_MS,
  type RemoteControl,
  type Replies,
  addReply,
  commandBody,
  pidboxNames,
} from './remote-control-wire.js';

const CONNECT_TIMEOUT_MS = 3000;
/** Celery's control_queue_expires (10 s) and control_queue_ttl (300 s), in ms. */
const REPLY_QUEUE_ARGUMENTS = { 'x-expires': 10_000, 'x-message-ttl': 300_000 };

export class AmqpRemoteControl implements RemoteControl {
  private readonly display: string;
  private clock = 0;

  constructor(
    private readonly url: string,
    private readonly controlExchange: string,
  ) {
    const parsed = new URL(url);
    this.display = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  }

  async broadcast(command: string, args: Record<string, unknown>, options: BroadcastOptions = {}): Promise<Replies> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_INSPECT_TIMEOUT_MS;
    const { exchange, replyExchange } = pidboxNames(this.controlExchange);
    let model;
    try {
      model = await amqp.connect(this.url, { timeout: CONNECT_TIMEOUT_MS });
    } catch (error) {
      throw new Error(`remote control: RabbitMQ at ${this.display} is unreachable: ${(error as Error).message}`, {
        cause: error,
      });
    }
    model.on('error', () => undefined);
    try {
      const channel = await model.createConfirmChannel();
      channel.on('error', () => undefined);
      return await this.call(channel, command, args, timeoutMs, exchange, replyExchange);
    } finally {
      await model.close().catch(() => undefined);
    }
  }

  private async call(
    channel: ConfirmChannel,
    command: string,
    args: Record<string, unknown>,
    timeoutMs: number,
    exchange: string,
    replyExchange: string,
  ): Promise<Replies> {
    const ticket = randomUUID();
    const oid = randomUUID();
    const replyQueue = `${oid}.${replyExchange}`;
    await channel.assertExchange(exchange, 'fanout', { durable: false, autoDelete: false });
    await channel.assertExchange(replyExchange, 'direct', { durable: false, autoDelete: false });
    await channel.assertQueue(replyQueue, {
      durable: false,
      autoDelete: true,
      exclusive: false,
      arguments: REPLY_QUEUE_ARGUMENTS,
    });
    await channel.bindQueue(replyQueue, replyExchange, oid);

    const replies: Replies = new Map();
    await channel.consume(
      replyQueue,
      (message: ConsumeMessage | null) => {
        if (message === null || message.properties.headers?.ticket !== ticket) return;
        try {
          addReply(replies, JSON.parse(message.content.toString('utf8')) as unknown);
        } catch {
          // not JSON: not a reply of ours
        }
      },
      { noAck: true },
    );

    let unroutable = false;
    // The channel carries this one command: anything returned is it.
    channel.on('return', () => {
      unroutable = true;
    });
    const deadline = Date.now() + timeoutMs;
    const body = commandBody(command, args, ticket, { exchange: replyExchange, routingKey: oid });
    await new Promise<void>((resolve, reject) => {
      channel.publish(
        exchange,
        '',
        Buffer.from(body, 'utf8'),
        {
          mandatory: true,
          contentType: 'application/json',
          contentEncoding: 'utf-8',
          deliveryMode: 1,
          headers: { clock: ++this.clock, expires: deadline / 1000 },
        },
        (error: Error | null) => (error ? reject(error) : resolve()),
      );
    });
    // A returned command (no worker's queue bound) arrives before its confirm.
    if (!unroutable) {
      const left = deadline - Date.now();
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    }
    await channel.deleteQueue(replyQueue).catch(() => undefined);
    return replies;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
