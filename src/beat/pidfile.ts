import { readFileSync, rmSync, writeFileSync } from 'node:fs';

import { OptionsError } from '../config.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Writes this process's id to `path`, refusing when another live process wrote it
 * (a stale file from a crash is replaced). Returns a function that removes it.
 * @throws OptionsError (the CLI exits 2) when another live process holds the file or it
 *   cannot be written (a folder that does not exist, no permission): neither mends itself.
 */
export function writePidFile(path: string): () => void {
  let existing: number | undefined;
  try {
    existing = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
  } catch {
    existing = undefined;
  }
  if (existing !== undefined && Number.isInteger(existing) && existing !== process.pid && isAlive(existing)) {
    throw new OptionsError(`pidfile ${path}: process ${existing} is still running`);
  }
  try {
    writeFileSync(path, `${process.pid}\n`);
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    const why =
      code === 'ENOENT'
        ? 'its folder does not exist'
        : code === 'EACCES'
          ? 'permission denied'
          : (error as Error).message;
    throw new OptionsError(`pidfile ${path}: cannot write it: ${why}`);
  }
  return () => {
    try {
      if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path);
    } catch {
      // Already gone.
    }
  };
}
