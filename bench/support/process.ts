// Child processes under measurement: start time, output, readiness, peak memory, and a
// guaranteed stop through the cleanup registry.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

import { onCleanup } from './cleanup.js';

export interface MeasuredProcess {
  child: ChildProcess;
  /** performance.now() just before spawn: "process start" for every figure. */
  startedAt: number;
  /** The last lines of stdout and stderr, for error reports. */
  tail(): string;
  /** A reason string once the process has exited, else null. */
  exited(): string | null;
  /** Resolves once the process has exited (or failed to start). */
  whenExited: Promise<void>;
  /** Resolves with performance.now() at the first output line matching `pattern`, or null on exit/timeout. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<number | null>;
  /** Peak resident set (VmHWM) in bytes, or null when /proc has no entry. */
  peakRss(): Promise<number | null>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Spawns `command args` and registers its stop for cleanup. */
export function startMeasuredProcess(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; label: string },
): MeasuredProcess {
  const startedAt = performance.now();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const watchers: Array<{ pattern: RegExp; resolve: (at: number | null) => void }> = [];
  let exitReason: string | null = null;

  const onData = (chunk: Buffer): void => {
    const at = performance.now();
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (lines.length > 40) lines.shift();
      for (const watcher of [...watchers]) {
        if (watcher.pattern.test(line)) {
          watchers.splice(watchers.indexOf(watcher), 1);
          watcher.resolve(at);
        }
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitReason = `${options.label} exited (code ${code}, signal ${signal})`;
      for (const watcher of watchers.splice(0)) watcher.resolve(null);
      resolve();
    });
    child.once('error', (error) => {
      exitReason = `${options.label} failed to start: ${error.message}`;
      for (const watcher of watchers.splice(0)) watcher.resolve(null);
      resolve();
    });
  });

  const stop = onCleanup(`stop ${options.label}`, async () => {
    if (exitReason !== null) return;
    child.kill('SIGTERM');
    const grace = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exitedPromise;
    clearTimeout(grace);
  });

  return {
    child,
    startedAt,
    tail: () => lines.join('\n'),
    exited: () => exitReason,
    whenExited: exitedPromise,
    waitForLine(pattern, timeoutMs) {
      if (exitReason !== null) return Promise.resolve(null);
      return new Promise((resolve) => {
        const watcher = {
          pattern,
          resolve: (at: number | null) => {
            clearTimeout(timer);
            resolve(at);
          },
        };
        const timer = setTimeout(() => {
          const index = watchers.indexOf(watcher);
          if (index >= 0) watchers.splice(index, 1);
          resolve(null);
        }, timeoutMs);
        watchers.push(watcher);
      });
    },
    async peakRss() {
      if (child.pid === undefined) return null;
      try {
        const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
        const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
        return match?.[1] === undefined ? null : Number(match[1]) * 1024;
      } catch {
        return null;
      }
    },
    stop,
  };
}

/** Runs a command to completion; rejects with its output when it fails. */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  const measured = startMeasuredProcess(command, args, { ...options, label: `${command} ${args[0] ?? ''}` });
  const timeout = setTimeout(() => void measured.stop(), options.timeoutMs ?? 120_000);
  await measured.whenExited;
  clearTimeout(timeout);
  await measured.stop();
  if (measured.child.exitCode !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${measured.child.exitCode}):\n${measured.tail()}`);
  }
  return measured.tail();
}
