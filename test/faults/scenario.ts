// Pieces the hardening fault scenarios share (issue 14): a leader with healthy one-second
// tasks, the dispatch lag read from its "sent" lines, and the checks every scenario ends
// with (no slot missing, none twice, the healthy tasks on time).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { type BeatLogLine, BeatProcess, spawnBeat, type SpawnBeatOptions } from '../support/beat-process.js';
import {
  auditRuns,
  describeAudit,
  type FaultDatabase,
  insertTasks,
  randomIdBase,
  type SentRun,
  summarize,
  type TaskSpec,
} from './support.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/dbbeat.js', import.meta.url));

/** A line that says a run was published (or found already published). */
export function isSend(line: BeatLogLine): boolean {
  return typeof line.scheduled === 'string' && typeof line.id === 'string';
}

/** Waits until the beat has sent a run scheduled after `until` (runs go out in slot order). */
export async function awaitSentPast(beat: BeatProcess, until: number, timeoutMs = 30_000): Promise<BeatLogLine> {
  return beat.waitForLine((line) => isSend(line) && Date.parse(String(line.scheduled)) > until, timeoutMs);
}

/** Inserts `count` one-second tasks named `<prefix>_<i>` on `queue`, dated the current whole second. */
export async function insertHealthyTasks(
  db: FaultDatabase,
  queue: string,
  count: number,
  prefix = queue,
): Promise<TaskSpec[]> {
  return insertTasks(db.pool, {
    idBase: randomIdBase(),
    count,
    namePrefix: prefix,
    queue,
    dateChanged: Math.floor(Date.now() / 1000) * 1000,
    schedule: () => 1,
  });
}

/** Starts a beat and waits until it leads. */
export async function startLeader(options: SpawnBeatOptions): Promise<BeatProcess> {
  const beat = spawnBeat(options);
  await beat.waitForLine((line) => line.msg === 'became leader', 60_000);
  return beat;
}

/**
 * Dispatch lag of the runs of `names` that the beats logged: sent − scheduled, in ms
 * (first copy of each slot only). Slots scheduled in [from, until] only.
 */
export function lagOf(
  beats: readonly BeatProcess[],
  names: ReadonlySet<string>,
  from: number,
  until: number,
): number[] {
  const seen = new Set<string>();
  const lags: number[] = [];
  for (const beat of beats) {
    for (const line of beat.lines) {
      if (!isSend(line) || line.duplicate === true) continue;
      const name = String(line.task);
      const scheduled = Date.parse(String(line.scheduled));
      if (!names.has(name) || scheduled < from || scheduled > until) continue;
      const key = `${name}@${scheduled}`;
      if (seen.has(key)) continue;
      seen.add(key);
      lags.push(Date.parse(String(line.sent)) - scheduled);
    }
  }
  return lags;
}

/** Median, p99 and max of a lag list. */
export function lagSummary(lags: readonly number[]): { runs: number; medianMs: number; p99Ms: number; maxMs: number } {
  const sorted = [...lags].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? NaN;
  return { runs: lags.length, ...summarize(lags), p99Ms: Math.round(p99) };
}

/**
 * The healthy tasks kept their times: every slot up to `until` is there once, and the
 * dispatch lag stays what a quiet beat shows (a loop that backs off shows seconds).
 */
export function assertHealthy(
  specs: readonly TaskSpec[],
  runs: readonly SentRun[],
  until: number,
  lags: readonly number[],
  maxLagMs = 1000,
): void {
  const names = new Set(specs.map((spec) => spec.name));
  const ours = runs.filter((run) => names.has(run.name));
  const audit = auditRuns(specs, ours, until);
  if (audit.missing.length > 0 || audit.unexpected.length > 0) console.log(describeAudit(audit, specs, ours));
  assert.deepEqual(
    audit.missing.slice(0, 20),
    [],
    `no slot missing (${audit.missing.length} missing of ${audit.expected})`,
  );
  assert.deepEqual(audit.unexpected.slice(0, 20), [], 'no run off the schedule');
  assert.equal(audit.duplicates, 0, 'no (task, slot) twice');
  const lag = lagSummary(lags);
  assert.ok(lag.runs > 0, 'healthy runs were logged');
  assert.ok(
    lag.maxMs <= maxLagMs,
    `healthy tasks keep their times: lag max ${lag.maxMs} ms (median ${lag.medianMs}, p99 ${lag.p99Ms})`,
  );
}

/** Options of {@link spawnBeatProcess}: spawnBeat's, plus a clock skew and self-migration. */
export interface SpawnOptions extends SpawnBeatOptions {
  /** Run under libfaketime with this offset, e.g. '+30s' or '-30s' (Debian's `faketime`). */
  skew?: string;
  /** Let the beat apply (and repair) the schema itself; spawnBeat passes --no-migrate. */
  migrate?: boolean;
  /** Embedded database folder instead of a database URL. */
  dataDir?: string;
}

/**
 * Starts `dbbeat beat` like spawnBeat does, optionally on a skewed clock (libfaketime:
 * the wall clock is shifted; the monotonic clock is left alone, as a skewed host's is),
 * with migrations, or on an embedded data folder.
 */
export function spawnBeatProcess(options: SpawnOptions): BeatProcess {
  const args = [
    bin,
    'beat',
    ...(options.dataDir !== undefined ? ['--data-dir', options.dataDir] : ['--database-url', options.databaseUrl]),
    '-b',
    options.brokerUrl,
    '--max-interval',
    String(options.maxInterval ?? 1),
    '-l',
    'INFO',
    ...(options.migrate === true ? [] : ['--no-migrate']),
    ...(options.leaseSeconds !== undefined ? ['--lease-seconds', String(options.leaseSeconds)] : []),
    ...(options.extraArgs ?? []),
  ];
  const env = { ...process.env };
  delete env.DATABASE_URL;
  const child =
    options.skew === undefined
      ? spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
      : // libfaketime preloaded into node itself (the `faketime` wrapper forks, so killing
        // it would leave the beat running).
        spawn(process.execPath, args, {
          cwd: repoRoot,
          env: {
            ...env,
            LD_PRELOAD: libfaketime(),
            FAKETIME: options.skew,
            DONT_FAKE_MONOTONIC: '1',
            FAKETIME_NO_CACHE: '1',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  return new BeatProcess(child, options.label);
}

/** Debian's libfaketime (package libfaketime, pulled in by faketime); the thread-safe build. */
function libfaketime(): string {
  const candidates = [
    '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1',
    '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1',
    '/usr/lib/faketime/libfaketimeMT.so.1',
  ];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined)
    throw new Error(`libfaketime not found (looked in ${candidates.join(', ')}): apt-get install faketime`);
  return found;
}
