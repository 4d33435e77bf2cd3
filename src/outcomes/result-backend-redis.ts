// Celery's Redis result backend, read: one key per task, `celery-task-meta-<task id>`
// (backends/base.py BaseKeyValueStoreBackend.task_keyprefix + the id), whose value is the
// serialized meta {status, result, traceback, date_done, children, task_id}. Read in
// batches with MGET as Celery's own get_many does.
import { readFileSync } from 'node:fs';

import { Redis, type RedisOptions } from 'ioredis';

import { redisOptionsFromUrl } from '../broker/redis-url.js';
import type { ResultBackend, TaskMeta } from './result-backend.js';
import { ResultBackendUrlError } from './result-backend.js';
import { decodeStored, metaFromDict } from './result-backend-meta.js';

/** Celery's key prefix of a task's result (BaseKeyValueStoreBackend.task_keyprefix). */
export const TASK_KEY_PREFIX = 'celery-task-meta-';
/** Keys per MGET. */
const MGET_BATCH = 1000;

/**
 * ioredis options for a result backend URL as Celery's RedisBackend._params_from_url reads
 * it: host, port, password (and user), the database number from the path (default 0);
 * `rediss://` is TLS, with `ssl_cert_reqs` CERT_REQUIRED (default here; Celery insists it
 * is given), CERT_OPTIONAL or CERT_NONE (no certificate check) and `ssl_ca_certs` (a CA file).
 * @throws ResultBackendUrlError for an unknown ssl_cert_reqs or a bad database number
 */
export function resultRedisOptions(url: string): RedisOptions & { display: string } {
  let options;
  try {
    options = redisOptionsFromUrl(url);
  } catch (error) {
    throw new ResultBackendUrlError(`result-backend: ${(error as Error).message}`, { cause: error });
  }
  const query = new URL(url).searchParams;
  if (options.tls !== undefined) {
    const reqs = (query.get('ssl_cert_reqs') ?? 'CERT_REQUIRED').toUpperCase();
    if (!['CERT_REQUIRED', 'CERT_OPTIONAL', 'CERT_NONE', 'REQUIRED', 'OPTIONAL', 'NONE'].includes(reqs)) {
      throw new ResultBackendUrlError(
        `result-backend: ssl_cert_reqs=${reqs} is not one of CERT_REQUIRED, CERT_OPTIONAL, CERT_NONE`,
      );
    }
    const ca = query.get('ssl_ca_certs');
    options.tls = {
      rejectUnauthorized: !reqs.endsWith('NONE'),
      ...(ca !== null && { ca: readFileSync(ca) }),
    };
  }
  return options;
}

/** Reads task meta from Celery's Redis result backend. */
export class RedisResultBackend implements ResultBackend {
  readonly description: string;
  private readonly client: Redis;

  constructor(url: string) {
    const { display, ...options } = resultRedisOptions(url);
    this.description = display;
    this.client = new Redis({
      ...options,
      lazyConnect: true,
      connectTimeout: 3000,
      maxRetriesPerRequest: 2,
      commandTimeout: 10_000,
      retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 1000),
    });
    // Errors reach the caller through the failed command; this keeps ioredis from
    // reporting each reconnect attempt as an unhandled 'error' event.
    this.client.on('error', () => {});
  }

  async getMany(taskIds: readonly string[]): Promise<Map<string, TaskMeta>> {
    const found = new Map<string, TaskMeta>();
    for (let start = 0; start < taskIds.length; start += MGET_BATCH) {
      const ids = taskIds.slice(start, start + MGET_BATCH);
      const values = await this.client.mgetBuffer(...ids.map((id) => TASK_KEY_PREFIX + id));
      values.forEach((value, i) => {
        if (value === null) return;
        const meta = metaFromDict(ids[i]!, decodeStored(value));
        if (meta !== undefined) found.set(ids[i]!, meta);
      });
    }
    return found;
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
