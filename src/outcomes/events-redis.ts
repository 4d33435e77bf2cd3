// Celery events on Redis: kombu's Redis transport turns the event exchange (a topic
// exchange, declared fanout on Redis by celery/events/event.py get_exchange) into
// PUB/SUB. A worker PUBLISHes each event to `/{db}.celeryev/task.succeeded` (kombu
// transport/redis.py: keyprefix_fanout '/{db}.', then exchange '/' routing key, the
// routing key being the event type with '-' as '.'); a receiver bound with `task.#`
// PSUBSCRIBEs `/{db}.celeryev/task.*`. The payload is kombu's envelope: JSON with `body`
// (base64 when properties.body_encoding is 'base64'), `content-type` and `properties`.
// PUB/SUB keeps nothing: events sent while dbbeat is not subscribed are not seen.
import { Redis } from 'ioredis';

import { redisOptionsFromUrl } from '../broker/redis-url.js';
import { type EventSource, type EventSourceLogger, UndecodableEvents } from './events-source.js';

/** The pattern a receiver of `exchange`'s task events subscribes to on database `db`. */
export function redisEventPattern(db: number, exchange: string): string {
  return `/${db}.${exchange}/task.*`;
}

interface KombuEnvelope {
  body?: unknown;
  'content-type'?: string;
  properties?: { body_encoding?: string };
}

/** The body text of kombu's envelope (base64 decoded), or undefined when it is not one. */
export function envelopeBody(envelopeText: string): { text: string; contentType: string | undefined } | undefined {
  let envelope: KombuEnvelope;
  try {
    envelope = JSON.parse(envelopeText) as KombuEnvelope;
  } catch {
    return undefined;
  }
  if (typeof envelope !== 'object' || envelope === null || typeof envelope.body !== 'string') return undefined;
  const text =
    envelope.properties?.body_encoding === 'base64'
      ? Buffer.from(envelope.body, 'base64').toString('utf8')
      : envelope.body;
  return { text, contentType: envelope['content-type'] };
}

export class RedisEventSource implements EventSource {
  private client: Redis | undefined;
  private readonly display: string;

  constructor(
    private readonly url: string,
    private readonly exchange: string,
    private readonly log: EventSourceLogger,
  ) {
    this.display = redisOptionsFromUrl(url).display;
  }

  async start(onBody: (body: unknown) => void): Promise<void> {
    const { display, db, ...connection } = redisOptionsFromUrl(this.url);
    const undecodable = new UndecodableEvents(this.log, display);
    // A connection of its own: a subscribed connection runs no other command.
    const client = new Redis({
      ...connection,
      db: db ?? 0,
      lazyConnect: true,
      connectTimeout: 3000,
      // Reconnect in the background, at most every 2 s; ioredis subscribes again (autoResubscribe).
      retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2000),
      maxRetriesPerRequest: null,
    });
    this.client = client;
    let lastReported = 0;
    client.on('error', (error: Error) => {
      const now = Date.now();
      if (now - lastReported < 10_000) return;
      lastReported = now;
      this.log.warn({ err: error, broker: display }, 'Celery events: Redis connection error');
    });
    client.on('pmessageBuffer', (_pattern: Buffer, _channel: Buffer, message: Buffer) => {
      const body = envelopeBody(message.toString('utf8'));
      if (body === undefined) return;
      const parsed = undecodable.parse(body.text, body.contentType);
      if (parsed !== undefined) onBody(parsed);
    });
    const pattern = redisEventPattern(db ?? 0, this.exchange);
    await client.psubscribe(pattern);
    this.log.info({ broker: display, pattern }, 'Celery events: subscribed');
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    await client.quit().catch(() => client.disconnect());
  }

  toString(): string {
    return this.display;
  }
}
