// `dbbeat beat --detach`, `--workdir`, `--uid`, `--gid`: Celery beat's daemon options.
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { resolve } from 'node:path';

/** Flags that take a path: made absolute against the directory dbbeat was started in. */
const PATH_FLAGS = new Set(['--pidfile', '--logfile', '-f', '--data-dir', '--http-token-file', '--http-users-file']);

/**
 * Starts this same command again in the background, in a session of its own, without
 * `--detach`, and returns its pid (the caller exits 0, as `celery beat --detach` does).
 * Paths given on the command line are made absolute first, so `--workdir` does not move
 * them; stdout and stderr go to the log file (or nowhere).
 */
export function detach(
  argv: readonly string[],
  logFile: string | undefined,
  workdir: string | undefined,
  switchesUser = false,
): number {
  const args: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--detach') continue;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    if (PATH_FLAGS.has(flag) && inline !== undefined) args.push(`${flag}=${resolve(inline)}`);
    else if (PATH_FLAGS.has(flag) && index + 1 < argv.length) args.push(arg, resolve(argv[++index]!));
    else args.push(arg);
  }
  // With --uid the beat opens its log file itself, as that user (a file this root process
  // created first would not be writable for it); output beside the log lines is then dropped.
  const output = logFile === undefined || switchesUser ? 'ignore' : openSync(resolve(logFile), 'a');
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], {
    detached: true,
    stdio: ['ignore', output, output],
    cwd: workdir === undefined ? process.cwd() : resolve(workdir),
    env: process.env,
  });
  child.unref();
  return child.pid ?? 0;
}

/**
 * Drops privileges as `--gid` then `--uid` say (names or numbers), before any file is opened,
 * so the pidfile, log file and data folder belong to that user.
 * @throws Error naming the flag when the user or group does not exist or may not be taken.
 */
export function dropPrivileges(uid: string | undefined, gid: string | undefined): void {
  const id = (value: string) => (/^\d+$/.test(value) ? Number(value) : value);
  try {
    if (gid !== undefined) {
      process.setgroups?.([id(gid)]);
      process.setgid?.(id(gid));
    }
  } catch (error) {
    throw new Error(`gid: cannot switch to group ${JSON.stringify(gid)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    if (uid !== undefined) process.setuid?.(id(uid));
  } catch (error) {
    throw new Error(`uid: cannot switch to user ${JSON.stringify(uid)}: ${(error as Error).message}`, { cause: error });
  }
}
