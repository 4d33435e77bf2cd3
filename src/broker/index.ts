// Chooses a broker adapter by URL scheme. Adding a broker: a new file that
// exports a connect function, and one line in BROKERS.
import { redactUrl } from '../redact-url.js';
import type { Broker, BrokerOptions } from './types.js';

export type { Broker, BrokerLogger, BrokerOptions, PublishOutcome, TaskMessage } from './types.js';

type Connect = (url: string, options: BrokerOptions) => Promise<Broker>;

/** Scheme (without ':') → adapter, loaded on first use so unused clients stay unloaded. */
const BROKERS: Record<string, () => Promise<Connect>> = {
  redis: async () => (await import('./redis.js')).connectRedis,
  rediss: async () => (await import('./redis.js')).connectRedis,
  amqp: async () => (await import('./amqp.js')).connectAmqp,
  amqps: async () => (await import('./amqp.js')).connectAmqp,
};

/**
 * Opens the broker a URL names: `redis://[user:pass@]host:port/db`,
 * `rediss://…`, `amqp://user:pass@host:port/vhost`, `amqps://…`.
 * @throws when the scheme is not one of these, naming it
 */
export async function connectBroker(url: string, options: BrokerOptions = {}): Promise<Broker> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  const load = scheme === undefined ? undefined : BROKERS[scheme];
  if (!load) {
    const shown = scheme === undefined ? `"${redactUrl(url)}" has no scheme` : `scheme "${scheme}:" is not supported`;
    throw new Error(
      `Broker URL ${shown}; use one of ${Object.keys(BROKERS)
        .map((s) => `${s}://`)
        .join(', ')}`,
    );
  }
  return (await load())(url, options);
}
