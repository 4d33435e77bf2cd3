// A client of an embedded database that another process owns and serves on a local port.
import { PostgresDatabase } from '../postgres/connection.js';

/**
 * A client of an embedded database served by another process, through its socket: a pool
 * of one connection, since the server runs one client's statements at a time anyway.
 */
export class ServedPGliteClient extends PostgresDatabase {
  override readonly description: string;
  private readonly dataDir: string;

  constructor(connectionString: string, options: { dataDir: string; log?: (message: string) => void }) {
    super({ connectionString, poolSize: 1, ...(options.log !== undefined && { log: options.log }) });
    this.dataDir = options.dataDir;
    this.description = `embedded PGlite at ${options.dataDir} (served by another process at ${connectionString.replace(/\?.*$/, '')})`;
  }

  /**
   * Notifications do not reach a socket client reliably (PGlite is one session, and the
   * owner's tap consumes them), so this listens to nothing: whoever listens here notices
   * changes by polling (the beat reads the change log every max-interval). Logged once so
   * the fallback is visible.
   */
  override listen(channel: string): Promise<() => Promise<void>> {
    this.log(
      `listen(${channel}): not available through the embedded database served from ${this.dataDir}; ` +
        'changes are noticed by polling only',
    );
    return Promise.resolve(() => Promise.resolve());
  }
}
