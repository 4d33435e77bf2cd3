// RabbitMQ broker (AMQP 0-9-1, amqplib). Publishes what kombu's py-amqp
// transport publishes for `app.send_task`: raw JSON body, the protocol-2
// headers as AMQP headers, publisher confirms for acceptance.
//
// Guarantee: at least once. RabbitMQ has no server-side dedupe, so a re-send
// after a beat crash between publish and record is delivered twice; both
// copies carry the same deterministic task id and `dbbeat_scheduled_at`
// header, so a consumer can recognise the repeat.
import amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';

import { amqpHeaders, buildProtocol2, destinationOf, type Destination } from './message.js';
import { DEFAULT_ROUTING, type DeclaredQueue, type RoutingSettings } from './routing.js';
import {
  type Broker,
  type BrokerLogger,
  type BrokerOptions,
  DEFAULT_MAX_MESSAGE_BYTES,
  MessageTooLargeError,
  type PublishOutcome,
  type TaskMessage,
} from './types.js';

const CONNECT_TIMEOUT_MS = 3000;
/** How long to wait for the publisher confirms of one batch. */
const CONFIRM_TIMEOUT_MS = 10_000;

/**
 * Queue and exchange arguments exactly as Celery declares them (kombu Queue /
 * Exchange defaults): durable, not auto-delete, no extra arguments. Any
 * difference makes a declare fail with PRECONDITION_FAILED.
 */
const QUEUE_OPTIONS: Options.AssertQueue = { durable: true, autoDelete: false, exclusive: false };
const EXCHANGE_OPTIONS: Options.AssertExchange = { durable: true, autoDelete: false, internal: false };

/** AMQP reply code for a declare whose arguments differ from the existing entity. */
const PRECONDITION_FAILED = 406;

/** Opens a RabbitMQ broker; the connection is made on first use and remade after it drops. */
export function connectAmqp(url: string, options: BrokerOptions = {}): Promise<Broker> {
  // In the executor, a bad URL rejects the promise rather than throwing.
  return new Promise((resolve) =>
    resolve(
      new AmqpBroker(
        url,
        options.logger,
        options.routing ?? DEFAULT_ROUTING,
        options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      ),
    ),
  );
}

interface Session {
  model: ChannelModel;
  channel: ConfirmChannel;
  /** Queues and exchanges already declared on this connection. */
  declared: Set<string>;
  /** Settles when the connection or channel closes. */
  lost: Promise<Error>;
}

class AmqpBroker implements Broker {
  readonly kind = 'amqp';
  private readonly display: string;
  private session: Promise<Session> | null = null;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly logger: BrokerLogger | undefined,
    private readonly routing: RoutingSettings,
    private readonly maxMessageBytes: number,
  ) {
    const parsed = new URL(url);
    this.display = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  }

  private open(): Promise<Session> {
    if (this.session) return this.session;
    const opening: Promise<Session> = this.connect().then(
      (session) => {
        // Once this connection is lost, the next publish opens a new one.
        void session.lost.then(() => {
          if (this.session === opening) this.session = null;
        });
        return session;
      },
      (error: Error) => {
        if (this.session === opening) this.session = null;
        throw new Error(`RabbitMQ at ${this.display} is unreachable: ${error.message}`, { cause: error });
      },
    );
    this.session = opening;
    return opening;
  }

  private async connect(): Promise<Session> {
    const model = await amqp.connect(this.url, { timeout: CONNECT_TIMEOUT_MS });
    let channel: ConfirmChannel;
    try {
      channel = await model.createConfirmChannel();
    } catch (error) {
      await model.close().catch(() => undefined);
      throw error;
    }
    const lost = new Promise<Error>((resolve) => {
      const forget = (error?: Error): void =>
        resolve(error ?? new Error(`RabbitMQ connection to ${this.display} closed`));
      model.on('close', forget);
      model.on('error', (error: Error) =>
        this.logger?.warn({ err: error, broker: this.display }, 'RabbitMQ connection error'),
      );
      channel.on('close', () => {
        forget(new Error(`RabbitMQ channel to ${this.display} closed`));
        // A channel closed by the server leaves its connection open: drop it, the next publish opens both.
        model.close().catch(() => undefined);
      });
      channel.on('error', (error: Error) =>
        this.logger?.warn({ err: error, broker: this.display }, 'RabbitMQ channel error'),
      );
    });
    return { model, channel, declared: new Set(), lost };
  }

  async publish(messages: readonly TaskMessage[]): Promise<PublishOutcome[]> {
    if (this.closed) throw new Error(`RabbitMQ broker ${this.display} is closed`);
    if (messages.length === 0) return [];
    const session = await this.open();
    const now = new Date();
    const destinations = messages.map((message) => destinationOf(message, this.routing));
    for (const destination of destinations) await this.declare(session, destination);

    const confirms = messages.map((message, index) =>
      this.publishOne(session.channel, message, destinations[index] as Destination, now),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no publisher confirm within ${CONFIRM_TIMEOUT_MS} ms`)),
        CONFIRM_TIMEOUT_MS,
      );
    });
    const lost = session.lost.then((error) => Promise.reject(error));
    try {
      // A connection lost before every confirm arrived leaves outcomes unknown: reject the batch.
      return await Promise.race([Promise.all(confirms), lost, timeout]);
    } catch (error) {
      throw new Error(`RabbitMQ broker ${this.display}: publish failed: ${(error as Error).message}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  private publishOne(
    channel: ConfirmChannel,
    message: TaskMessage,
    destination: Destination,
    now: Date,
  ): Promise<PublishOutcome> {
    let protocol;
    let headers;
    let body: Buffer;
    try {
      protocol = buildProtocol2(
        message.priority === destination.priority ? message : { ...message, priority: destination.priority },
        now,
      );
      headers = amqpHeaders(protocol.headers);
      body = Buffer.from(protocol.bodyJson, 'utf8');
      // The headers travel in the frame too; their JSON size is close to their AMQP size.
      const bytes = body.length + Buffer.byteLength(protocol.headersJson, 'utf8');
      if (bytes > this.maxMessageBytes) throw new MessageTooLargeError(message.id, bytes, this.maxMessageBytes);
    } catch (error) {
      return Promise.resolve({ id: message.id, status: 'failed', error: error as Error });
    }
    const { properties } = protocol;
    return new Promise<PublishOutcome>((resolve) => {
      channel.publish(
        destination.exchange,
        destination.routingKey,
        body,
        {
          contentType: 'application/json',
          contentEncoding: 'utf-8',
          headers,
          correlationId: properties.correlation_id,
          replyTo: properties.reply_to,
          priority: properties.priority,
          deliveryMode: properties.delivery_mode,
          // Celery 5's send_task sets the AMQP TTL to the time left until expires.
          ...(properties.expiration === undefined ? {} : { expiration: properties.expiration }),
        },
        (error: unknown) => {
          if (error)
            resolve({
              id: message.id,
              status: 'failed',
              error: error instanceof Error ? error : new Error(`broker nacked ${message.id}`),
            });
          else resolve({ id: message.id, status: 'sent' });
        },
      );
    });
  }

  /**
   * Declares what Celery declares before publishing: the task's queue, its
   * exchange and the binding between them. Publishing to another named
   * exchange, dbbeat also declares that exchange and binds the task's queue to
   * it with the routing key (Celery publishes there unbound, and the message is
   * lost). Once per connection.
   */
  private async declare(session: Session, destination: Destination): Promise<void> {
    const declare = destination.declare;
    const key = `${destination.exchange}\x00${destination.exchangeType}\x00${destination.routingKey}\x00${declare ? JSON.stringify(declare) : ''}`;
    if (session.declared.has(key)) return;
    if (declare) await this.declareQueue(session, declare);
    if (destination.exchange !== '' && destination.exchange !== declare?.exchange) {
      await session.channel.assertExchange(destination.exchange, destination.exchangeType, EXCHANGE_OPTIONS);
      // Without a queue of its own, the message follows the exchange's
      // bindings (as with Celery); nothing is bound on a guess.
      if (declare) await session.channel.bindQueue(declare.name, destination.exchange, destination.routingKey);
    }
    session.declared.add(key);
  }

  /**
   * Declares a queue as kombu's Queue.declare does: its exchange (unless the
   * default), the queue, and the binding. A queue or exchange declared
   * elsewhere with other arguments (say x-max-priority from the workers'
   * config) makes our declare fail; it exists, which is all we need, so accept
   * it. The declares run on their own channel so the confirm channel survives.
   */
  private async declareQueue(session: Session, queue: DeclaredQueue): Promise<void> {
    const probe = await session.model.createChannel();
    probe.on('error', () => undefined);
    try {
      if (queue.exchange !== '') await probe.assertExchange(queue.exchange, queue.exchangeType, EXCHANGE_OPTIONS);
      await probe.assertQueue(queue.name, QUEUE_OPTIONS);
      if (queue.exchange !== '') await probe.bindQueue(queue.name, queue.exchange, queue.routingKey);
    } catch (error) {
      if ((error as { code?: number }).code !== PRECONDITION_FAILED) throw error;
      this.logger?.warn(
        { queue: queue.name, exchange: queue.exchange, broker: this.display },
        'queue or exchange exists with other arguments than Celery defaults; using it as is',
      );
      return;
    }
    await probe.close().catch(() => undefined);
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error(`RabbitMQ broker ${this.display} is closed`);
    const session = await this.open();
    // A passive check of the default exchange needs a round trip to the server.
    await session.channel.checkExchange('amq.direct');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pending = this.session;
    this.session = null;
    if (!pending) return;
    const session = await pending.catch(() => null);
    if (!session) return;
    await Promise.race([
      session.model.close().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 2000).unref()),
    ]);
  }
}
