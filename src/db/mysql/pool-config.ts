// The mariadb pool settings a mysql:// URL names. Kept apart from connection.ts so that
// a reader of these settings (the SQL result backend) loads the driver only when it connects.
import type mariadb from 'mariadb';

/** The pool settings a URL names. */
export function poolConfigOf(url: string): mariadb.PoolConfig {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port === '' ? 3306 : Number(parsed.port),
    user: decodeURIComponent(parsed.username) || 'root',
    password: decodeURIComponent(parsed.password),
    ...(database !== '' && { database }),
  };
}
