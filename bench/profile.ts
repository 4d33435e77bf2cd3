// Profiles `dbbeat beat` (node --cpu-prof) on one workload and prints where the time goes:
// self time by function and by source file, from the .cpuprofile V8 writes on exit.
//
//   npx tsx bench/profile.ts burst 100000        # all due at start, until all are in Redis
//   npx tsx bench/profile.ts startup 1000000     # mixed tasks, none due, until "ready"
//   npx tsx bench/profile.ts startup 1000000 --fresh   # the same right after the insert, no statistics
//   npx tsx bench/profile.ts summary FILE.cpuprofile    # summarise an existing profile
//
// Profiles go to DBBEAT_PROFILE_DIR (default /tmp/dbbeat-profiles); extra node flags can be
// given in DBBEAT_NODE_FLAGS (e.g. --max-semi-space-size=64), extra `dbbeat beat` flags in
// DBBEAT_BEAT_ARGS (e.g. --no-history).
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createDbbeatDatabase } from './dbbeat.js';
import { installSignalCleanup, runAllCleanups } from './support/cleanup.js';
import { startMeasuredProcess } from './support/process.js';
import { connectRedis, DBBEAT_REDIS_DB, queueCleanup, waitForQueueLength } from './support/redis.js';
import { insertIntervalTasks, insertMixedTasks } from './support/rows.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/dbbeat.js', import.meta.url));
const DIR = process.env.DBBEAT_PROFILE_DIR ?? '/tmp/dbbeat-profiles';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Self time (ms) by function and by file, from a V8 .cpuprofile. */
export async function summarize(file: string, top = 25): Promise<string> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as {
    nodes: ProfileNode[];
    startTime: number;
    endTime: number;
    samples: number[];
    timeDeltas: number[];
  };
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url
      .replace(/^file:\/\//, '')
      .replace(ROOT, '')
      .replace(/.*node_modules\//, 'nm/');
    const fn = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const fileKey = where === '' ? `(${functionName})` : where.replace(/^nm\/((@[^/]+\/)?[^/]+)\/.*/, 'nm/$1');
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
  }
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const lines = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([name, us]) =>
          `  ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / 1000 / totalMs).toFixed(1).padStart(5)} %  ${name}`,
      )
      .join('\n');
  return `${file}: ${totalMs.toFixed(0)} ms profiled\nself time by function:\n${lines(byFunction)}\nself time by file or package:\n${lines(byFile)}`;
}

async function newestProfile(after: number): Promise<string> {
  const files = await readdir(DIR);
  let best: { file: string; at: number } | undefined;
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (tsx's loader runs in another).
  for (const name of files.filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f))) {
    const at = (await stat(join(DIR, name))).mtimeMs;
    if (at >= after && (best === undefined || at > best.at)) best = { file: join(DIR, name), at };
  }
  if (best === undefined) throw new Error(`no .cpuprofile written in ${DIR}`);
  return best.file;
}

async function main(): Promise<void> {
  const [workload, sizeText, flag] = process.argv.slice(2);
  if (workload === 'summary' && sizeText) {
    process.stdout.write(`${await summarize(sizeText, 40)}\n`);
    return;
  }
  const size = Number(sizeText);
  if ((workload !== 'burst' && workload !== 'startup') || !Number.isInteger(size) || size <= 0) {
    process.stderr.write('usage: npx tsx bench/profile.ts burst|startup N [--fresh] | summary FILE\n');
    process.exit(2);
  }
  installSignalCleanup();
  await mkdir(DIR, { recursive: true });
  const db = await createDbbeatDatabase();
  const redis = connectRedis(DBBEAT_REDIS_DB);
  const queue = `bench_profile_${randomBytes(4).toString('hex')}`;
  const dropQueue = queueCleanup(DBBEAT_REDIS_DB, queue, { dedupeMarkers: true });
  try {
    if (workload === 'burst') {
      await insertIntervalTasks(db.pool, {
        count: size,
        namePrefix: 'burst_',
        queue,
        everySeconds: 3600,
        lastRunAt: new Date(Date.now() - 86_400_000),
      });
    } else {
      await insertMixedTasks(db.pool, { count: size, crontabs: 1000, queue, analyze: flag !== '--fresh' });
    }
    const extra = (process.env.DBBEAT_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const beatArgs = (process.env.DBBEAT_BEAT_ARGS ?? '').split(' ').filter(Boolean);
    const startedAtWall = Date.now();
    const beat = startMeasuredProcess(
      process.execPath,
      [
        ...extra,
        '--cpu-prof',
        `--cpu-prof-dir=${DIR}`,
        BIN,
        'beat',
        '--database-url',
        db.url,
        '-b',
        `redis://127.0.0.1:6379/${DBBEAT_REDIS_DB}`,
        '-l',
        workload === 'burst' ? 'WARNING' : 'INFO',
        ...beatArgs,
      ],
      { cwd: ROOT, label: 'dbbeat beat (profiled)' },
    );
    let seconds: number | null;
    if (workload === 'burst') {
      const done = await waitForQueueLength(redis, queue, size, {
        timeoutMs: 600_000,
        pollMs: 10,
        stop: () => beat.exited(),
      });
      seconds = done.at === null ? null : (done.at - beat.startedAt) / 1000;
    } else {
      const ready = await beat.waitForLine(/ready/i, 600_000);
      seconds = ready === null ? null : (ready - beat.startedAt) / 1000;
    }
    const rss = await beat.peakRss();
    await beat.stop();
    process.stdout.write(
      `${workload} ${size}${flag ? ` ${flag}` : ''}: ${seconds?.toFixed(2) ?? 'did not finish'} s (profiled), peak RSS ${((rss ?? 0) / 2 ** 20).toFixed(0)} MiB\n`,
    );
    process.stdout.write(`${beat.tail()}\n`);
    process.stdout.write(`${await summarize(await newestProfile(startedAtWall))}\n`);
  } finally {
    await dropQueue();
    redis.disconnect();
    await db.drop();
  }
}

main().then(
  async () => {
    await runAllCleanups();
    process.exit(0);
  },
  async (error: unknown) => {
    await runAllCleanups();
    process.stderr.write(
      `profile failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
