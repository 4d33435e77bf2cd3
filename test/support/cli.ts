// Runs the `dbbeat` command as a user does (node bin/dbbeat.js …) and collects what it
// printed, for the CLI tests.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** bin/dbbeat.js of this checkout. */
export const dbbeatBin = fileURLToPath(new URL('../../bin/dbbeat.js', import.meta.url));

/** What a finished `dbbeat` command printed, and its exit code. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `dbbeat <args…>` to its end. `env` is laid over this process's environment
 * (a test sets DATABASE_URL: '' so that only the flags it passes name a database).
 */
export function runDbbeat(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [dbbeatBin, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
