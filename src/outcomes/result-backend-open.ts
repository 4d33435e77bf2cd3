// Opens the reader of the result backend a URL names.
import { type ResultBackend, parseResultBackendUrl } from './result-backend.js';
import { RedisResultBackend } from './result-backend-redis.js';
import { SqlResultBackend } from './result-backend-sql.js';

/**
 * Opens a reader of the result backend a URL names (see parseResultBackendUrl). Connections
 * are made on first use.
 * @throws ResultBackendUrlError for a URL dbbeat cannot read
 */
export function openResultBackend(url: string, options: { databaseUrl?: string } = {}): ResultBackend {
  const spec = parseResultBackendUrl(url, options.databaseUrl);
  return spec.kind === 'redis' ? new RedisResultBackend(spec.url) : new SqlResultBackend(spec);
}
