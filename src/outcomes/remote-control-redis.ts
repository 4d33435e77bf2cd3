// Remote control over Redis, as kombu's Redis transport carries a pidbox call
// (kombu/transport/redis.py, kombu/transport/virtual/exchange.py):
// - the fanout exchange is Redis PUB/SUB: the command is PUBLISHed on
//   `/<db>.<control_exchange>.pidbox` (keyprefix_fanout `/{db}.`, then the exchange; no
//   `/routing_key` since the pidbox publishes with none), where every worker's pidbox
//   PSUBSCRIBEs. PUBLISH answers how many subscribers got it: that many replies at most.
// - the reply exchange is direct: a worker looks up the binding set
//   `_kombu.binding.reply.<control_exchange>.pidbox` for the members
//   `<routing key>\x06\x16\x06\x16<queue>` and LPUSHes its reply envelope onto `<queue>`.
//   So the caller adds its own binding (routing key = its id) and BRPOPs that list.
// - afterwards the binding and the list are removed (kombu after_reply_message_received →
//   queue_delete). A reply that arrives after that finds no binding and is dropped.
// Envelopes are kombu's virtual-transport messages: JSON with the body in base64.
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

import { bindingKey, priorityListName, queueBindingMember } from '../broker/redis-kombu.js';
import { redisOptionsFromUrl } from '../broker/redis-url.js';
import {
  type BroadcastOptions,
  DEFAULT_INSPECT_TIMEOUT_MS,
  type RemoteControl,
  type Replies,
  addReply,
  commandBody,
  pidboxNames,
} from './remote-control-wire.js';

/** kombu's default priority steps: the lists a reply may land on. */
const PRIORITY_STEPS = [0, 3, 6, 9];

/** What a kombu Redis envelope holds that a reply needs. */
interface Envelope {
  body?: unknown;
  headers?: { ticket?: unknown } | null;
  properties?: { body_encoding?: unknown } | null;
}

export class RedisRemoteControl implements RemoteControl {
  private readonly connection: ReturnType<typeof redisOptionsFromUrl>;
  private readonly db: number;
  private clock = 0;

  constructor(
    url: string,
    private readonly controlExchange: string,
  ) {
    this.connection = redisOptionsFromUrl(url);
    this.db = this.connection.db ?? 0;
  }

  async broadcast(command: string, args: Record<string, unknown>, options: BroadcastOptions = {}): Promise<Replies> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_INSPECT_TIMEOUT_MS;
    const { exchange, replyExchange } = pidboxNames(this.controlExchange);
    const ticket = randomUUID();
    const oid = randomUUID();
    const replyQueue = `${oid}.${replyExchange}`;
    const binding = queueBindingMember(replyQueue, oid);
    const lists = PRIORITY_STEPS.map((step) => priorityListName(replyQueue, step));
    const { display, ...connection } = this.connection;
    // Two connections: BRPOP blocks its own.
    // One attempt: a broker that is down fails the call (the caller reports it), no reconnect loop.
    const client = new Redis({
      ...connection,
      lazyConnect: true,
      connectTimeout: 3000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const blocking = client.duplicate();
    // The connection error itself (ECONNREFUSED …): connect() only says "Connection is closed".
    let connectionError: Error | undefined;
    const remember = (error: Error): void => {
      connectionError ??= error;
    };
    client.on('error', remember);
    blocking.on('error', remember);
    const replies: Replies = new Map();
    try {
      try {
        await Promise.all([client.connect(), blocking.connect()]);
      } catch (error) {
        const reason = (connectionError ?? (error as Error)).message;
        throw new Error(`remote control: Redis at ${display} is unreachable: ${reason}`, { cause: error });
      }
      await client.sadd(bindingKey(replyExchange), binding);
      const deadline = Date.now() + timeoutMs;
      const body = commandBody(command, args, ticket, { exchange: replyExchange, routingKey: oid });
      const envelope = JSON.stringify({
        body: Buffer.from(body, 'utf8').toString('base64'),
        'content-encoding': 'utf-8',
        'content-type': 'application/json',
        headers: { clock: ++this.clock, expires: deadline / 1000 },
        properties: {
          delivery_mode: 2,
          delivery_info: { exchange, routing_key: '' },
          priority: 0,
          body_encoding: 'base64',
          delivery_tag: randomUUID(),
        },
      });
      const receivers = await client.publish(`/${this.db}.${exchange}`, envelope);
      let answered = 0;
      while (answered < receivers) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        // BRPOP takes seconds (fractions since Redis 6); 0 would mean forever.
        const popped = await blocking.brpop(...lists, Math.max(left, 10) / 1000);
        if (popped === null) break;
        const reply = decodeReply(popped[1], ticket);
        if (reply === undefined) continue;
        addReply(replies, reply);
        answered++;
      }
      return replies;
    } finally {
      await client
        .multi()
        .srem(bindingKey(replyExchange), binding)
        .del(...lists)
        .exec()
        .catch(() => undefined);
      client.disconnect();
      blocking.disconnect();
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The body of a reply envelope carrying `ticket`; undefined for anything else. */
function decodeReply(text: string, ticket: string): unknown {
  let envelope: Envelope;
  try {
    envelope = JSON.parse(text) as Envelope;
  } catch {
    return undefined;
  }
  if (envelope.headers?.ticket !== ticket || typeof envelope.body !== 'string') return undefined;
  const body =
    envelope.properties?.body_encoding === 'base64'
      ? Buffer.from(envelope.body, 'base64').toString('utf8')
      : envelope.body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}
