// Celery's remote control, as `celery inspect` uses it: a command broadcast to every
// worker through kombu's pidbox, and the replies collected for a while.
//
// The wire (kombu/pidbox.py Mailbox._publish, _collect; celery/app/control.py):
// - the command goes to the fanout exchange `<control_exchange>.pidbox` (Celery's
//   `control_exchange`, default `celery`) as JSON {method, arguments, destination,
//   pattern, matcher, ticket, reply_to: {exchange, routing_key}}, headers {clock, expires};
// - each worker answers on the direct exchange `reply.<control_exchange>.pidbox` with the
//   routing key given in reply_to, body `{hostname: reply}`, header `ticket`;
// - the caller keeps the replies whose ticket is its own.
// Transports: remote-control-redis.ts and remote-control-amqp.ts.
import { redactUrl } from '../redact-url.js';
import {
  DEFAULT_CONTROL_EXCHANGE,
  type BroadcastOptions,
  type RemoteControl,
  type RemoteControlOptions,
} from './remote-control-wire.js';

export * from './remote-control-wire.js';

/**
 * Opens remote control over the broker a URL names (redis://, rediss://, amqp://, amqps://).
 * Connections are made per broadcast.
 * @throws when the scheme is none of these
 */
export async function connectRemoteControl(url: string, options: RemoteControlOptions = {}): Promise<RemoteControl> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  const controlExchange = options.controlExchange || DEFAULT_CONTROL_EXCHANGE;
  if (scheme === 'redis' || scheme === 'rediss') {
    const { RedisRemoteControl } = await import('./remote-control-redis.js');
    return new RedisRemoteControl(url, controlExchange);
  }
  if (scheme === 'amqp' || scheme === 'amqps') {
    const { AmqpRemoteControl } = await import('./remote-control-amqp.js');
    return new AmqpRemoteControl(url, controlExchange);
  }
  throw new Error(`remote control: broker URL ${redactUrl(url)} is not redis://, rediss://, amqp:// or amqps://`);
}

/**
 * `celery inspect ping`: the hostnames that answered `{'ok': 'pong'}`.
 * @throws when the broker cannot be reached
 */
export async function ping(control: RemoteControl, options?: BroadcastOptions): Promise<string[]> {
  const replies = await control.broadcast('ping', {}, options);
  return [...replies]
    .filter(([, reply]) => (reply as { ok?: unknown } | null)?.ok === 'pong')
    .map(([hostname]) => hostname)
    .sort();
}

/**
 * `celery inspect registered`, built-in `celery.*` tasks included (`builtins=True`: a
 * periodic `celery.backend_cleanup` is registered too): task names by hostname. A worker
 * lists `name [exchange=… rate_limit=…]` where a task sets those; the names are cut there.
 */
export async function registeredTasks(
  control: RemoteControl,
  options?: BroadcastOptions,
): Promise<Map<string, string[]>> {
  const replies = await control.broadcast('registered', { taskinfoitems: [], builtins: true }, options);
  const out = new Map<string, string[]>();
  for (const [hostname, reply] of replies) {
    if (!Array.isArray(reply)) continue;
    out.set(
      hostname,
      reply.filter((entry): entry is string => typeof entry === 'string').map((entry) => taskNameOf(entry)),
    );
  }
  return out;
}

/** `proj.add [rate_limit=10/s]` → `proj.add` (celery/worker/control.py registered's format). */
export function taskNameOf(entry: string): string {
  const match = /^(.*?) \[[^\]]*\]$/s.exec(entry);
  return match ? match[1]! : entry;
}

/** A queue a worker consumes, as `active_queues` describes it (kombu Queue.as_dict). */
export interface ConsumedQueue {
  name: string;
  /** '' for the default exchange. */
  exchange: string;
  exchangeType: string;
  routingKey: string;
}

/** `celery inspect active_queues`: the queues each worker consumes, by hostname. */
export async function activeQueues(
  control: RemoteControl,
  options?: BroadcastOptions,
): Promise<Map<string, ConsumedQueue[]>> {
  const replies = await control.broadcast('active_queues', {}, options);
  const out = new Map<string, ConsumedQueue[]>();
  for (const [hostname, reply] of replies) {
    if (!Array.isArray(reply)) continue;
    const queues: ConsumedQueue[] = [];
    for (const entry of reply as unknown[]) {
      if (typeof entry !== 'object' || entry === null) continue;
      const queue = entry as { name?: unknown; routing_key?: unknown; exchange?: unknown };
      if (typeof queue.name !== 'string') continue;
      const exchange = (typeof queue.exchange === 'object' && queue.exchange !== null ? queue.exchange : {}) as {
        name?: unknown;
        type?: unknown;
      };
      queues.push({
        name: queue.name,
        exchange: typeof exchange.name === 'string' ? exchange.name : '',
        exchangeType: typeof exchange.type === 'string' ? exchange.type : 'direct',
        routingKey: typeof queue.routing_key === 'string' ? queue.routing_key : '',
      });
    }
    out.set(hostname, queues);
  }
  return out;
}
