// Where a `redis://` URL points: host, port, database number and credentials, for the
// broker and for the outcome readers that talk to the same Redis.
import type { RedisOptions } from 'ioredis';

import { redactUrl } from '../redact-url.js';

/** Connection settings read from a `redis://` / `rediss://` URL. */
export function redisOptionsFromUrl(url: string): RedisOptions & { display: string } {
  const parsed = new URL(url);
  const tls = parsed.protocol === 'rediss:';
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = parsed.port ? Number(parsed.port) : 6379;
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) {
    throw new Error(`Redis URL ${redactUrl(url)}: database "${dbText}" is not a number`);
  }
  return {
    host,
    port,
    db,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(tls ? { tls: {} } : {}),
    display: redactUrl(url),
  };
}
