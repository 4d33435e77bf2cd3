// Celery events on RabbitMQ: workers publish each event to the `celeryev` topic exchange
// with the event type as routing key ('-' as '.': task.succeeded), JSON body
// (celery/events/dispatcher.py). Like Flower's EventReceiver, dbbeat declares a queue of its
// own bound with `task.#`: exclusive and auto-delete, so it goes when dbbeat does, and
// events sent while dbbeat is away are not kept for it.
import { randomBytes } from 'node:crypto';

import amqp from 'amqplib';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';

import { type EventSource, type EventSourceLogger, UndecodableEvents } from './events-source.js';

/** Celery's event exchange as every worker declares it (Exchange('celeryev', type='topic'): durable, not auto-delete). */
const EXCHANGE_OPTIONS = { durable: true, autoDelete: false } as const;
/** Reconnect delays, ms: doubling up to this. */
const MAX_RECONNECT_MS = 10_000;

export class AmqpEventSource implements EventSource {
  private model: ChannelModel | undefined;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly display: string;
  /** The queue's name: Celery's event_queue_prefix, then who and a random part. */
  readonly queue = `celeryev.dbbeat.${randomBytes(6).toString('hex')}`;

  constructor(
    private readonly url: string,
    private readonly exchange: string,
    private readonly log: EventSourceLogger,
  ) {
    const parsed = new URL(url);
    this.display = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  }

  async start(onBody: (body: unknown) => void): Promise<void> {
    const undecodable = new UndecodableEvents(this.log, this.display);
    const onMessage = (message: ConsumeMessage | null): void => {
      if (message === null) return; // the queue was deleted: the channel's close reconnects
      const parsed = undecodable.parse(message.content.toString('utf8'), message.properties.contentType as string);
      if (parsed !== undefined) onBody(parsed);
    };
    try {
      await this.connect(onMessage, 0);
    } catch (error) {
      if (!this.stopped) this.scheduleReconnect(onMessage, 1, (error as Error).message);
      throw error;
    }
  }

  private async connect(onMessage: (message: ConsumeMessage | null) => void, attempt: number): Promise<void> {
    const model = await amqp.connect(this.url, { timeout: 5000 });
    if (this.stopped) {
      await model.close().catch(() => undefined);
      return;
    }
    this.model = model;
    let channel: Channel;
    try {
      channel = await model.createChannel();
      await channel.assertExchange(this.exchange, 'topic', EXCHANGE_OPTIONS);
      await channel.assertQueue(this.queue, { exclusive: true, autoDelete: true, durable: false });
      await channel.bindQueue(this.queue, this.exchange, 'task.#');
      await channel.consume(this.queue, onMessage, { noAck: true });
    } catch (error) {
      await model.close().catch(() => undefined);
      throw error;
    }
    this.log.info({ broker: this.display, queue: this.queue }, 'Celery events: consuming');
    let lost = false;
    const reconnect = (reason: string): void => {
      if (lost || this.stopped) return;
      lost = true;
      this.model = undefined;
      model.close().catch(() => undefined);
      this.scheduleReconnect(onMessage, attempt + 1, reason);
    };
    model.on('error', (error: Error) =>
      this.log.warn({ err: error, broker: this.display }, 'Celery events: RabbitMQ connection error'),
    );
    model.on('close', () => reconnect('connection closed'));
    channel.on('error', (error: Error) =>
      this.log.warn({ err: error, broker: this.display }, 'Celery events: RabbitMQ channel error'),
    );
    channel.on('close', () => reconnect('channel closed'));
  }

  private scheduleReconnect(
    onMessage: (message: ConsumeMessage | null) => void,
    attempt: number,
    reason: string,
  ): void {
    const delay = Math.min(500 * 2 ** Math.min(attempt, 10), MAX_RECONNECT_MS);
    this.log.warn({ broker: this.display }, `Celery events: ${reason}; reconnecting in ${delay} ms`);
    this.reconnectTimer = setTimeout(() => {
      this.connect(onMessage, 0).catch((error: unknown) => {
        if (!this.stopped) this.scheduleReconnect(onMessage, attempt + 1, (error as Error).message);
      });
    }, delay);
    this.reconnectTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const model = this.model;
    this.model = undefined;
    await model?.close().catch(() => undefined);
  }
}
