// Cleanup that survives a killed test process. scripts/run-tests.mjs runs each file in a
// process group of its own and, when the file ends (or is killed), kills that group, the
// groups registered here, drops the PostgreSQL databases whose names carry the file's
// tag and removes the file's TMPDIR. Run directly (`node --test file`), the exit
// handlers of the support modules are what is left.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/** The run's tag for this file ("" when not started by scripts/run-tests.mjs). */
export const testTag: string = process.env.DBBEAT_TEST_TAG ?? '';

/**
 * Notes a process group (a child spawned with `detached: true`) for the runner to kill
 * after the file, in case the test process dies before it stops the child itself.
 */
export function registerProcessGroup(pid: number | undefined): void {
  const dir = process.env.DBBEAT_TEST_CLEANUP_DIR;
  if (dir === undefined || pid === undefined) return;
  appendFileSync(join(dir, 'process-groups'), `${pid}\n`);
}

/** Kills, when this process exits (also on a failed assertion), each child still running. */
export function killOnExit(
  child: {
    pid?: number | undefined;
    exitCode: number | null;
    signalCode: NodeJS.Signals | null;
    kill(signal?: NodeJS.Signals): boolean;
  },
  group = false,
): void {
  process.once('exit', () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    try {
      if (group) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      // already gone
    }
  });
}
