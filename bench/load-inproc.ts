// Times Loader.loadAll in-process (no process start): CPU (process.cpuUsage), wall, and the
// heap kept after the load, over N mixed tasks, several rounds.
//
//   node --expose-gc --import tsx bench/load-inproc.ts 100000 [--fresh] [--rounds 3]
import pino from 'pino';

import { PostgresDatabase } from '../src/db/postgres/connection.js';
import { PostgresStore } from '../src/db/postgres/store.js';
import { Loader } from '../src/beat/loader.js';
import type { Recorder } from '../src/beat/recorder.js';
import { TaskTable } from '../src/beat/task-table.js';
import { systemClock } from '../src/beat/clock.js';
import { createDbbeatDatabase } from './dbbeat.js';
import { installSignalCleanup, runAllCleanups } from './support/cleanup.js';
import { insertMixedTasks } from './support/rows.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const size = Number(args[0] ?? 100000);
  const fresh = args.includes('--fresh');
  const roundsAt = args.indexOf('--rounds');
  const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 3;
  installSignalCleanup();
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  const bench = await createDbbeatDatabase();
  await insertMixedTasks(bench.pool, { count: size, crontabs: 1000, queue: 'bench_inproc', analyze: !fresh });
  const db = new PostgresDatabase({ connectionString: bench.url });
  const store = new PostgresStore(db);
  const log = pino({ level: 'warn' });
  const recorder = { disable: () => Promise.resolve() } as unknown as Recorder;
  for (let round = 0; round < rounds; round++) {
    const table = new TaskTable();
    const loader = new Loader(store, table, recorder, log, () => undefined, systemClock);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const cpu = process.cpuUsage();
    const wall = performance.now();
    await loader.loadAll();
    const ms = performance.now() - wall;
    const used = process.cpuUsage(cpu);
    gc();
    const mem = process.memoryUsage();
    process.stdout.write(
      `round ${round}: ${size}${fresh ? ' fresh' : ''} wall ${ms.toFixed(0)} ms, cpu ${((used.user + used.system) / 1000).toFixed(0)} ms, ` +
        `kept heap ${((mem.heapUsed - heapBefore) / 2 ** 20).toFixed(1)} MiB, rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, tasks ${table.size}\n`,
    );
  }
  await db.close();
}

main().then(
  async () => {
    await runAllCleanups();
    process.exit(0);
  },
  async (error: unknown) => {
    await runAllCleanups();
    process.stderr.write(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
