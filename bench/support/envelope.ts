// The Redis envelope the floor pushes: exactly the bytes dbbeat's Redis broker LPUSHes
// (src/broker/redis.ts), so the floor and dbbeat send the same messages.
import { destinationOf } from '../../src/broker/message.js';
import { redisEnvelope } from '../../src/broker/redis.js';
import type { TaskMessage } from '../../src/broker/types.js';

/** Turns one run into the string LPUSHed onto its list. */
export type EnvelopeBuilder = (message: TaskMessage, now: Date) => string;

/** Which builder the floor used, for the report. */
export const envelopeSource = 'src/broker/redis.ts';

export function loadEnvelopeBuilder(): Promise<EnvelopeBuilder> {
  return Promise.resolve((message, now) => redisEnvelope(message, destinationOf(message), now));
}
