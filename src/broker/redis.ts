// Redis broker: kombu's Redis transport, written from Node. A message is a
// JSON envelope LPUSHed onto the queue's list (kombu/transport/redis.py); the
// worker BRPOPs from `queue`, `queue\x06\x163`, … in that order.
//
// Guarantee: exactly once per task id within the dedupe TTL. Each message is
// published by one Lua script that sets `dbbeat:sent:<id>` NX and pushes only
// when the marker was new (see redis-publish-script.ts).
import { Redis } from 'ioredis';

import { destinationOf, type Destination } from './message.js';
import { EnvelopeArena, SlabPool } from './envelope-arena.js';
import { prepareRedisEnvelope, writeRedisEnvelope } from './redis-envelope.js';
import { bindingKey, exchangeQueues, priorityListName, queueBindingMember, SEP } from './redis-kombu.js';
import { redisOptionsFromUrl } from './redis-url.js';
import {
  type Binding,
  Chunk,
  type PipelinePublishOnce,
  PUBLISH_CHUNK_SIZE,
  PUBLISH_ONCE_LUA,
  SENT_KEY_PREFIX,
} from './redis-publish-script.js';
import { type DeclaredQueue, DEFAULT_ROUTING, type RoutingSettings } from './routing.js';
import {
  type Broker,
  type BrokerLogger,
  type BrokerOptions,
  DEFAULT_MAX_MESSAGE_BYTES,
  MessageTooLargeError,
  type PublishOutcome,
  type TaskMessage,
} from './types.js';

const DEFAULT_DEDUPE_TTL_SECONDS = 7 * 24 * 3600;

export { bindingKey, priorityListName, queueBindingMember } from './redis-kombu.js';
export { redisEnvelope } from './redis-envelope.js';
export { redisOptionsFromUrl } from './redis-url.js';

/** Opens a Redis broker; the connection is made on first use. */
export function connectRedis(url: string, options: BrokerOptions = {}): Promise<Broker> {
  // In the executor, a bad URL rejects the promise rather than throwing.
  return new Promise((resolve) => resolve(new RedisBroker(url, options)));
}

const NO_ROUTES = new Map<string, string[][]>();

class RedisBroker implements Broker {
  readonly kind = 'redis';
  private readonly client: Redis;
  private readonly display: string;
  private readonly ttl: number;
  private readonly logger: BrokerLogger | undefined;
  /** The last connection error ioredis reported (ECONNREFUSED …): the cause a failed PING names. */
  private lastConnectionError: Error | undefined;
  private readonly routing: RoutingSettings;
  private readonly maxMessageBytes: number;
  private closed: Promise<void> | null = null;
  /** The marker TTL as the script's argument. */
  private readonly ttlText: string;
  private lastBinding: Binding | undefined;
  /**
   * Envelope bytes per message in the last publish: each publish sizes its arena from it,
   * with slabs from `slabs`. A fresh 1 MiB slab per call, under a steady load's small
   * batches (tens of runs), allocated gigabytes a minute outside the heap and set off a
   * major GC every second (pauses up to 0.3 s); see envelope-arena.ts.
   */
  private envelopeBytes = 1024;
  private readonly slabs = new SlabPool();

  constructor(url: string, options: BrokerOptions) {
    this.routing = options.routing ?? DEFAULT_ROUTING;
    const { display, ...connection } = redisOptionsFromUrl(url);
    this.display = display;
    this.ttl = options.dedupeTtlSeconds ?? DEFAULT_DEDUPE_TTL_SECONDS;
    if (!Number.isInteger(this.ttl) || this.ttl <= 0) {
      throw new Error(`dedupeTtlSeconds must be a positive integer, got ${String(options.dedupeTtlSeconds)}`);
    }
    this.ttlText = String(this.ttl);
    this.logger = options.logger;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.client = new Redis({
      ...connection,
      lazyConnect: true,
      connectTimeout: 3000,
      // Fail a command after two reconnect attempts rather than queueing it
      // forever: the beat has its own backoff and must hear of the outage.
      maxRetriesPerRequest: 2,
      commandTimeout: 10_000,
      // Keep reconnecting in the background, at most once a second.
      retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 1000),
    });
    let lastReported = 0;
    this.client.on('error', (error: Error) => {
      this.lastConnectionError = error;
      // ioredis emits one error per failed reconnect; report at most every 10 s.
      const now = Date.now();
      if (now - lastReported < 10_000) return;
      lastReported = now;
      this.logger?.warn({ err: error, broker: this.display }, 'Redis connection error');
    });
    this.client.defineCommand('dbbeatPublishOnce', { lua: PUBLISH_ONCE_LUA });
  }

  async publish(messages: readonly TaskMessage[]): Promise<PublishOutcome[]> {
    if (this.closed) throw new Error(`Redis broker ${this.display} is closed`);
    const count = messages.length;
    if (count === 0) return [];
    const now = new Date();
    const destinations = new Array<Destination>(count);
    let named = false;
    for (let index = 0; index < count; index++) {
      const destination = destinationOf(messages[index]!, this.routing);
      destinations[index] = destination;
      if (destination.exchange !== '') named = true;
    }
    const routes = named ? await this.resolveExchangeRoutes(destinations) : NO_ROUTES;
    const outcomes = new Array<PublishOutcome>(count);
    // One script call per chunk, all chunks in one pipeline (one round trip).
    const arena = new EnvelopeArena(Math.ceil(count * this.envelopeBytes * 1.25), this.slabs);
    const chunks: Chunk[] = [];
    let chunk = new Chunk();
    let bytes = 0;
    for (let index = 0; index < count; index++) {
      const message = messages[index]!;
      try {
        bytes += this.addToChunk(message, destinations[index]!, routes, now, arena, chunk);
      } catch (error) {
        // A message that cannot be serialised fails alone.
        outcomes[index] = { id: message.id, status: 'failed', error: error as Error };
        continue;
      }
      chunk.indexes.push(index);
      if (chunk.indexes.length === PUBLISH_CHUNK_SIZE) {
        chunk.envelopes = arena.cut();
        chunks.push(chunk);
        chunk = new Chunk();
      }
    }
    if (chunk.indexes.length > 0) {
      chunk.envelopes = arena.cut();
      chunks.push(chunk);
    }
    if (chunks.length === 0) return outcomes;
    this.envelopeBytes = bytes / count;
    const pipeline = this.client.pipeline();
    const publishOnce = (pipeline as unknown as { dbbeatPublishOnce: PipelinePublishOnce }).dbbeatPublishOnce;
    for (const { keys, bindingKeys, members, indexes, layout, envelopes } of chunks) {
      publishOnce.call(pipeline, keys.length + bindingKeys.length, keys, bindingKeys, [
        this.ttlText,
        String(indexes.length),
        envelopes!,
        layout,
        ...members,
      ]);
    }
    const replies = await pipeline.exec();
    if (!replies) throw new Error(`Redis broker ${this.display}: the pipeline was discarded`);
    // Every call answered: no view of the arena is written (or written again after a reconnect) any more.
    if (replies.every(([error]) => !error)) arena.release();
    chunks.forEach(({ indexes }, chunkIndex) => {
      const [error, reply] = replies[chunkIndex] ?? [new Error('no reply'), null];
      // An error for a whole call means the connection (or the script) failed: no
      // outcome is known for any message, so the batch fails as a whole.
      if (error) throw withContext(error, `Redis broker ${this.display}: publish failed`);
      // Every message was sent but those the reply names (pairs: number in the call, outcome).
      for (const index of indexes) outcomes[index] = { id: messages[index]!.id, status: 'sent' };
      const refused = reply as (number | string)[];
      for (let at = 0; at + 1 < refused.length; at += 2) {
        const index = indexes[Number(refused[at]) - 1]!;
        const id = messages[index]!.id;
        const result = String(refused[at + 1]);
        outcomes[index] =
          result === 'duplicate'
            ? { id, status: 'duplicate' }
            : { id, status: 'failed', error: new Error(`Redis refused the message: ${result.slice('error:'.length)}`) };
      }
    });
    return outcomes;
  }

  prepare(message: TaskMessage): void {
    let destination: Destination;
    try {
      destination = destinationOf(message, this.routing);
    } catch {
      return; // reported when the message is published
    }
    prepareRedisEnvelope(message, destination);
  }

  /**
   * Queues bound to each named exchange, read from kombu's binding sets
   * (direct exchange: members whose routing key matches).
   */
  private async resolveExchangeRoutes(destinations: Destination[]): Promise<Map<string, string[][]>> {
    const exchanges = [...new Set(destinations.filter((d) => d.exchange !== '').map((d) => d.exchange))];
    const tables = new Map<string, string[][]>();
    if (exchanges.length === 0) return tables;
    const pipeline = this.client.pipeline();
    for (const exchange of exchanges) pipeline.smembers(bindingKey(exchange));
    const replies = (await pipeline.exec()) ?? [];
    exchanges.forEach((exchange, index) => {
      const [error, members] = replies[index] ?? [null, []];
      if (error) throw withContext(error, `Redis broker ${this.display}: reading ${bindingKey(exchange)}`);
      tables.set(
        exchange,
        (members as string[]).map((member) => member.split(SEP)),
      );
    });
    return tables;
  }

  /**
   * Adds one message's share of the script call to `chunk` (see redis-publish-script.ts
   * for the layout): its dedupe marker, lists and binding, its envelope written to `arena`.
   * @returns the envelope's size in bytes
   * @throws when the message cannot be serialised or is over the size limit (nothing added)
   */
  private addToChunk(
    message: TaskMessage,
    destination: Destination,
    routes: Map<string, string[][]>,
    now: Date,
    arena: EnvelopeArena,
    chunk: Chunk,
  ): number {
    const bytes = writeRedisEnvelope(message, destination, now, arena);
    if (bytes > this.maxMessageBytes) {
      arena.drop(bytes);
      throw new MessageTooLargeError(message.id, bytes, this.maxMessageBytes);
    }
    const declare = destination.declare;
    const keys = chunk.keys;
    keys.push(`${SENT_KEY_PREFIX}${message.id}`);
    let lists = 1;
    if (destination.exchange === '') {
      // The common case: one list, on the default exchange.
      keys.push(priorityListName(destination.routingKey, destination.priority));
    } else {
      const queues = exchangeQueues(destination, routes.get(destination.exchange) ?? []);
      for (const queue of queues) keys.push(priorityListName(queue, destination.priority));
      lists = queues.length;
    }
    // Celery declares the task's queue before publishing, which records its binding.
    const binding = declare ? chunk.bindingNumber(this.bindingOf(declare)) : 0;
    chunk.layout += `${lists} ${binding} ${bytes} `;
    return bytes;
  }

  /** The binding set and member a declared queue records, for the last queue seen (a batch mostly has one). */
  private bindingOf(declare: DeclaredQueue): Binding {
    const last = this.lastBinding;
    if (
      last !== undefined &&
      last.exchange === declare.exchange &&
      last.name === declare.name &&
      last.routingKey === declare.routingKey
    )
      return last;
    this.lastBinding = {
      exchange: declare.exchange,
      name: declare.name,
      routingKey: declare.routingKey,
      key: bindingKey(declare.exchange),
      member: queueBindingMember(declare.name, declare.routingKey),
    };
    return this.lastBinding;
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error(`Redis broker ${this.display} is closed`);
    try {
      await this.client.ping();
    } catch (error) {
      const cause: unknown = this.lastConnectionError ?? error;
      const reason = cause instanceof Error ? cause.message : String(cause);
      // eslint-disable-next-line preserve-caught-error -- the connection error ioredis reported is the real cause; the PING's own error only says the connection closed
      throw new Error(`Redis at ${this.display} did not answer PING: ${reason}`, { cause });
    }
    // ioredis reports a failed SELECT of the URL's database only as an 'error' event and goes
    // on in database 0, where every message would land unseen; its reply has no code but ERR.
    const selectFailed = this.lastConnectionError;
    if (selectFailed !== undefined && /DB index is out of range/.test(selectFailed.message))
      throw new Error(`Redis at ${this.display} refused the database of the URL: ${selectFailed.message}`, {
        cause: selectFailed,
      });
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    if (this.client.status === 'ready') {
      // QUIT lets pending replies arrive; bounded, then cut the socket anyway.
      await Promise.race([
        this.client.quit().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 1000).unref()),
      ]);
    }
    this.client.disconnect();
  }
}

function withContext(cause: Error, message: string): Error {
  return new Error(`${message}: ${cause.message}`, { cause });
}
