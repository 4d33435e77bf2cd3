// Which start-up failures can never succeed on a retry (the process exits with code 2 and
// one line naming the setting), and how the others are told to an operator: the host and
// port, in words, never a password nor a library's internals.
import { UnsupportedDatabaseUrlError } from '../db/open.js';
import { MigrationChecksumError } from '../db/migrate.js';
import { DataDirInUseError } from '../db/pglite/data-dir.js';
import { UnsupportedServerVersionError } from '../db/mysql/server-version.js';
import { redactUrl } from '../redact-url.js';

/**
 * A failure that no retry can mend: a wrong setting or a state an operator must fix.
 * The CLI prints `message` as one line and exits with code 2.
 */
export class PermanentFailure extends Error {
  override readonly name = 'PermanentFailure';
  constructor(
    /** The setting to look at: `database-url`, `broker`, `migrations`, `data-dir`. */
    readonly setting: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${setting}: ${message}`, options);
  }
}

/** PostgreSQL SQLSTATEs that mean the settings are wrong, not that the server is away. */
const PG_PERMANENT: Record<string, string> = {
  '3D000': 'the database does not exist',
  '28P01': 'authentication failed (wrong password)',
  '28000': 'the server rejected this user (pg_hba.conf or no such role)',
  '42501': 'permission denied',
};
/** MySQL/MariaDB error numbers with the same meaning. */
const MYSQL_PERMANENT: Record<number, string> = {
  1049: 'the database does not exist',
  1045: 'authentication failed (wrong user or password)',
  1044: 'access to the database denied',
  // ER_NO_DB_ERROR: the URL names no database (mysql://host:3306/ with nothing after the slash).
  1046: 'the URL names no database (add /<database> to it)',
  // MariaDB's answer to a user it knows only with another authentication plugin (unix_socket).
  1698: 'authentication failed (wrong user or password)',
};

interface ErrorFields {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
}

/** host:port of a URL, for messages (no user, no password, no path). */
export function hostPort(url: string | undefined): string {
  if (url === undefined) return 'the embedded database';
  try {
    const parsed = new URL(url);
    if (parsed.hostname === '') return 'the default host (the URL names none)';
    return parsed.port === '' ? parsed.hostname : `${parsed.hostname}:${parsed.port}`;
  } catch {
    return redactUrl(url);
  }
}

/**
 * The permanent failure this error is, or undefined when a retry may succeed.
 * @param what `database`, `migrate` or `broker`: which start-up step failed.
 * @param url the URL that step used (for the host and port in the message).
 */
export function permanentFailure(error: unknown, what: string, url: string | undefined): PermanentFailure | undefined {
  if (error instanceof PermanentFailure) return error;
  if (error instanceof UnsupportedDatabaseUrlError)
    return new PermanentFailure('database-url', error.message, { cause: error });
  if (error instanceof MigrationChecksumError)
    return new PermanentFailure('migrations', error.message, { cause: error });
  if (error instanceof DataDirInUseError) return new PermanentFailure('data-dir', error.message, { cause: error });
  // A MySQL older than 8.0 or MariaDB older than 10.6 (its version named) stays that old.
  if (error instanceof UnsupportedServerVersionError)
    return new PermanentFailure('database-url', error.message, { cause: error });
  const fields = (typeof error === 'object' && error !== null ? error : {}) as ErrorFields;
  const setting = what === 'broker' ? 'broker' : 'database-url';
  const where = hostPort(url);
  if (typeof fields.code === 'string' && fields.code in PG_PERMANENT) {
    return new PermanentFailure(
      setting,
      `${PG_PERMANENT[fields.code]} at ${where}: ${typeof fields.message === 'string' ? fields.message : ''}`,
      {
        cause: error,
      },
    );
  }
  if (typeof fields.errno === 'number' && fields.errno in MYSQL_PERMANENT) {
    return new PermanentFailure(setting, `${MYSQL_PERMANENT[fields.errno]} at ${where}`, { cause: error });
  }
  if (what === 'broker') {
    const message = typeof fields.message === 'string' ? fields.message : '';
    // Redis answers a failed AUTH with an error reply whose code is its first word.
    if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(message)) {
      return new PermanentFailure('broker', `Redis at ${where} refused the credentials (${message.split(' ')[0]})`, {
        cause: error,
      });
    }
    // amqplib: the server closed the handshake with 403 ACCESS_REFUSED (wrong user or password).
    if (/ACCESS[-_]REFUSED|\b403\b/.test(message)) {
      return new PermanentFailure('broker', `RabbitMQ at ${where} refused the credentials (ACCESS_REFUSED)`, {
        cause: error,
      });
    }
    // The URL's database number is beyond the server's `databases` (16 by default).
    if (/DB index is out of range/.test(message)) {
      return new PermanentFailure(
        'broker',
        `Redis at ${where} has no database ${vhostOf(url) === '/' ? '0' : vhostOf(url)} (ERR DB index is out of range: the server's "databases" setting is lower)`,
        { cause: error },
      );
    }
    if (/^Broker URL /.test(message))
      return new PermanentFailure('broker', message.replace(/^Broker URL /, ''), { cause: error });
    // A virtual host that does not exist (or that this user may not open): RabbitMQ answers
    // connection.open with 530 NOT_ALLOWED, which amqplib reports only as the frame it did
    // not expect ("Expected ConnectionOpenOk; got <ConnectionClose …>").
    if (/NOT_ALLOWED|\b530\b|Expected ConnectionOpenOk; got <ConnectionClose/.test(message)) {
      return new PermanentFailure(
        'broker',
        `RabbitMQ at ${where} refused the virtual host ${JSON.stringify(vhostOf(url))} (NOT_ALLOWED: it does not exist, or this user has no access to it)`,
        { cause: error },
      );
    }
  }
  return undefined;
}

/** A transient failure in words: "Redis at 127.0.0.1:1 refused the connection". */
export function describeTransient(error: unknown, what: string, url: string | undefined): string {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as ErrorFields & { cause?: ErrorFields };
  const kind = what === 'broker' ? brokerKind(url) : 'the database';
  const where = hostPort(url);
  // The brokers wrap the socket's error; its code is on the cause.
  switch (fields.code ?? fields.cause?.code) {
    case 'ECONNREFUSED':
      return `${kind} at ${where} refused the connection`;
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
      return `${kind} at ${where} did not answer in time`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `${kind} at ${where} closed the connection`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${kind} at ${where}: the host name does not resolve`;
    case '57P03':
      return `${kind} at ${where} is starting up`;
    default: {
      const message = error instanceof Error ? error.message : String(error);
      return `${kind} at ${where}: ${url === undefined ? message : message.split(url).join(redactUrl(url))}`;
    }
  }
}

/** The virtual host an amqp:// URL names (kombu: the path without its first slash; "/" when empty). */
function vhostOf(url: string | undefined): string {
  if (url === undefined) return '/';
  try {
    const path = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
    return path === '' ? '/' : path;
  } catch {
    return '/';
  }
}

function brokerKind(url: string | undefined): string {
  return url !== undefined && /^amqps?:/i.test(url) ? 'RabbitMQ' : 'Redis';
}

/**
 * Asks a freshly connected broker one PING, as every long-running command does at start:
 * an answer that no retry can mend (refused credentials, a virtual host that does not exist)
 * throws, so the command exits with code 2 and one line; a broker that is merely away is told
 * through `warn` (host and port in words) and the command goes on, reconnecting on first use.
 * @throws PermanentFailure (setting `broker`)
 */
export async function checkBrokerAtStart(
  broker: { ping(): Promise<void> },
  url: string,
  warn: (message: string) => void,
): Promise<void> {
  await broker.ping().catch((error: unknown) => {
    const permanent = permanentFailure(error, 'broker', url);
    if (permanent) throw permanent;
    warn(`broker not reachable yet: ${describeTransient(error, 'broker', url)}`);
  });
}
