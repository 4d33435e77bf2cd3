// RabbitMQ broker (AMQP 0-9-1): work in progress.
import type { Broker, BrokerOptions } from './types.js';

/** Opens a RabbitMQ broker. */
export async function connectAmqp(url: string, _options: BrokerOptions = {}): Promise<Broker> {
  throw new Error(`RabbitMQ broker not implemented yet (${new URL(url).host})`);
}
