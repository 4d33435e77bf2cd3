// Who holds the row locks of tasks on MySQL / MariaDB, for the log line of a held record
// (BeatStore.rowLockHolders).
import { type RowLockHolder, unknownLockHolder } from '../store.js';
import type { MysqlDatabase } from './connection.js';
import {
  CONNECTION_ID,
  EXISTING_TASKS,
  PROBE_ROW_LOCK_MARIADB,
  ROW_LOCK_HOLDERS_MYSQL,
  ROW_LOCK_WAIT_MARIADB,
  SERVER_VERSION,
} from './statements.js';

/** How many held rows' lock holders are looked up on MariaDB per call (each takes a short lock wait). */
const NAMED_HOLDERS = 5;

/** A lock holder as ROW_LOCK_WAIT_MARIADB and ROW_LOCK_HOLDERS_MYSQL return it. */
interface LockHolderRow extends Record<string, unknown> {
  pid: number;
  user: string | null;
  host: string | null;
  command: string | null;
  started: number | string | null;
  query: string | null;
}

/** BeatStore.rowLockHolders on MySQL / MariaDB. */
export class MysqlLockHolders {
  /** Whether the server is MariaDB (read once, when a row lock's holder is first looked up). */
  private mariadb: boolean | undefined;

  constructor(private readonly db: MysqlDatabase) {}

  /**
   * Who holds the row locks of these tasks. MySQL 8 lists granted record locks in
   * performance_schema.data_locks. MariaDB lists locks only while someone waits on them
   * (information_schema.INNODB_LOCKS / INNODB_LOCK_WAITS), so for each of the first
   * {@link NAMED_HOLDERS} rows a probe connection waits on the lock for a moment, the
   * blocker is read from the wait, and the probe is stopped (KILL QUERY): about 0.1 s each.
   * A row whose holder could not be read comes back with pid null.
   */
  async of(ids: readonly number[]): Promise<RowLockHolder[]> {
    if (ids.length === 0) return [];
    const names = new Map(
      (await this.db.query<{ id: number; name: string }>(EXISTING_TASKS, [ids])).map((row) => [row.id, row.name]),
    );
    const unnamed = (id: number): RowLockHolder => unknownLockHolder(id, names.get(id));
    const named = (id: number, row: LockHolderRow): RowLockHolder => ({
      id,
      name: names.get(id) ?? `#${id}`,
      pid: Number(row.pid),
      application: row.user === null ? null : `user ${row.user}`,
      client: row.host,
      state:
        row.command === 'Sleep'
          ? 'idle in transaction'
          : row.command === null
            ? null
            : `${row.command.toLowerCase()} in transaction`,
      since: row.started === null ? null : Math.round(Number(row.started) * 1000),
      query: row.query,
    });
    this.mariadb ??= /mariadb/i.test((await this.db.query<{ version: string }>(SERVER_VERSION))[0]?.version ?? '');
    if (!this.mariadb) {
      const rows = await this.db.query<LockHolderRow & { id: number }>(ROW_LOCK_HOLDERS_MYSQL, [ids.map(String)]);
      const byId = new Map(rows.map((row) => [Number(row.id), row]));
      return ids.map((id) => (byId.has(id) ? named(id, byId.get(id)!) : unnamed(id)));
    }
    const holders: RowLockHolder[] = [];
    for (const [index, id] of ids.entries()) {
      const row = index < NAMED_HOLDERS ? await this.probeMariadbLock(id) : null;
      holders.push(row === null ? unnamed(id) : named(id, row));
    }
    return holders;
  }

  /** MariaDB: waits on task `id`'s row lock on a connection of its own, reads the blocker from the wait, stops the wait. */
  private async probeMariadbLock(id: number): Promise<LockHolderRow | null> {
    let probeId: number | undefined;
    let done = false;
    const probe = this.db
      .transaction(async (tx) => {
        probeId = Number((await tx.query<{ id: number }>(CONNECTION_ID))[0]!.id);
        await tx.query(PROBE_ROW_LOCK_MARIADB, [id]).catch(() => undefined); // killed, timed out, or got the lock (then released at commit)
      })
      .catch(() => undefined)
      .finally(() => {
        done = true;
      });
    let found: LockHolderRow | null = null;
    try {
      for (let attempt = 0; attempt < 40 && !done && found === null; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        if (probeId === undefined) continue;
        [found = null] = await this.db.query<LockHolderRow>(ROW_LOCK_WAIT_MARIADB, [probeId]);
      }
    } finally {
      if (!done && probeId !== undefined) await this.db.execute(`KILL QUERY ${probeId}`).catch(() => undefined);
      await probe;
    }
    return found;
  }
}
