// The files an embedded PGlite data folder carries besides the database itself:
// a lock naming the process that has the folder open, and, while that process serves
// it on a local port, server.json saying where.
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';

/** The embedded database's folder when none is given (flag, DBBEAT_DATA_DIR): the one place it is written. */
export const DEFAULT_DATA_DIR = './.dbbeat';

/** Where an owning process serves its embedded database. */
export interface ServerInfo {
  host: string;
  port: number;
  pid: number;
}

/** The data folder is open in another live process that does not serve it. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the embedded database in ${dataDir} is already open in process ${pid}` +
        (pid === process.pid ? ' (this one)' : ', which does not serve it') +
        '; ' +
        'stop that process, or run it with serving enabled (the beat does), or use DATABASE_URL',
    );
    this.name = 'DataDirInUseError';
  }
}

const LOCK_FILE = 'dbbeat.lock';
const SERVER_FILE = 'server.json';
const PROBE_TIMEOUT_MS = 1_000;

/** Lock files this process holds, so that it does not mistake its own lock for a stale one. */
const locksHeldHere = new Set<string>();

/** The PGlite database files live in a subfolder, keeping our files apart from PostgreSQL's. */
export function pgliteFolder(dataDir: string): string {
  return join(dataDir, 'pgdata');
}

/**
 * Takes the folder's lock for this process, creating the folder if missing.
 * A lock left by a dead process is taken over; one held by a live process throws
 * {@link DataDirInUseError}. Returns a function that releases it.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const lockPath = resolve(dataDir, LOCK_FILE);
  if (locksHeldHere.has(lockPath)) throw new DataDirInUseError(dataDir, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      locksHeldHere.add(lockPath);
      return async () => {
        locksHeldHere.delete(lockPath);
        await rm(lockPath, { force: true });
      };
    } catch (error) {
      if (!isErrnoException(error) || error.code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder !== process.pid && isProcessAlive(holder)) {
      throw new DataDirInUseError(dataDir, holder);
    }
    // Stale: its process is gone (or a crashed process had our pid and we do not hold it).
    await rm(lockPath, { force: true });
  }
  throw new Error(`could not take the lock ${lockPath}: it keeps reappearing`);
}

/** The live process that has the folder open, if any (and where it serves it, when it does). */
export async function dataDirOwner(
  dataDir: string,
): Promise<{ pid: number; server: ServerInfo | undefined } | undefined> {
  const server = await findLiveServer(dataDir);
  if (server !== undefined) return { pid: server.pid, server };
  const holder = Number.parseInt(await readFile(resolve(dataDir, LOCK_FILE), 'utf8').catch(() => ''), 10);
  if (Number.isInteger(holder) && holder !== process.pid && isProcessAlive(holder))
    return { pid: holder, server: undefined };
  return undefined;
}

/**
 * A second beat on an embedded data folder. The embedded database lives inside the
 * process that opened the folder, so another beat there could never take over when that
 * process dies: it refuses to start instead (the CLI exits with code 2).
 */
export class EmbeddedBeatConflictError extends Error {
  override readonly name = 'EmbeddedBeatConflictError';
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
  ) {
    super(
      `the embedded database in ${dataDir} is already run by process ${ownerPid}; ` +
        'a second beat cannot stand by on an embedded database (it lives inside that process): ' +
        'run several beats on PostgreSQL (DATABASE_URL), or just this one',
    );
  }
}

/** Records where the folder's database is served; written atomically. */
export async function writeServerInfo(dataDir: string, info: ServerInfo): Promise<void> {
  const path = join(dataDir, SERVER_FILE);
  await writeFile(`${path}.tmp`, JSON.stringify(info));
  await rename(`${path}.tmp`, path);
}

export async function removeServerInfo(dataDir: string): Promise<void> {
  await rm(join(dataDir, SERVER_FILE), { force: true });
}

/** The server recorded in the folder, if its process is alive and its port answers. */
export async function findLiveServer(dataDir: string): Promise<ServerInfo | undefined> {
  let info: ServerInfo;
  try {
    info = JSON.parse(await readFile(join(dataDir, SERVER_FILE), 'utf8')) as ServerInfo;
  } catch {
    return undefined;
  }
  if (typeof info.port !== 'number' || typeof info.pid !== 'number' || typeof info.host !== 'string') return undefined;
  if (!isProcessAlive(info.pid)) return undefined;
  return (await portAnswers(info.host, info.port)) ? info : undefined;
}

function portAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return isErrnoException(error) && error.code === 'EPERM';
  }
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}
