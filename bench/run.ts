// `npm run bench`: dbbeat beside the floor, BullMQ and django-celery-beat, in one run.
// Writes this run's figures (and nothing older) to bench/results/latest.json, and
// regenerates BENCHMARKS.md and the README's benchmark table from that file. Every process,
// database and Redis key it creates is removed at the end, on failure and on Ctrl-C.
// `--json` prints this run's figures as JSON on stdout (the human table goes to stderr).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { benchBullmq } from './bullmq.js';
import { benchDbbeat } from './dbbeat-figures.js';
import { benchDialects } from './dialects.js';
import { benchFloor } from './floor.js';
import { benchPeer } from './peer.js';
import { renderConsoleTable, renderMarkdown, renderReadmeRegion, replaceReadmeRegion } from './render.js';
import type { BenchResults } from './report.js';
import { installSignalCleanup, isShuttingDown, runAllCleanups } from './support/cleanup.js';
import type { Figure, Subject } from './support/results.js';

const ROOT_DIR = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_FILE = fileURLToPath(new URL('./results/latest.json', import.meta.url));
const MARKDOWN_FILE = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const README_FILE = fileURLToPath(new URL('../README.md', import.meta.url));
/** Hand-written: why each missed target is missed, and what changed for it. */
const ANALYSIS_FILE = fileURLToPath(new URL('./ANALYSIS.md', import.meta.url));
const readAnalysis = () => readFile(ANALYSIS_FILE, 'utf8').catch(() => '');
const SCHEDULES_MODULE = fileURLToPath(new URL('./schedules.ts', import.meta.url));

const WORKLOADS = ['burst', 'history', 'startup', 'pickup', 'steady', 'light', 'dialects', 'schedules'] as const;
/** Change-pickup samples per series: a p99 needs a hundred (of twenty, it is the slowest one). */
const PICKUP_TRIES = 100;
const SUBJECTS: readonly Subject[] = ['dbbeat', 'floor', 'bullmq', 'peer'];

interface RunOptions {
  quick: boolean;
  workloads: Set<string>;
  subjects: Set<Subject>;
  burstSizes: number[];
  /** Burst sizes run with run history on and off, alternated. */
  historySizes: number[];
  startupSizes: number[];
  pickupSizes: number[];
  /** dialects: burst sizes, then the size of the loaded database (startup, pickup, idle). */
  dialectBurstSizes: number[];
  dialectLoadedSize: number;
  peerSizes: number[];
  bullmqSizes: number[];
  peerTimeoutSeconds: number;
  reportOnly: boolean;
  json: boolean;
  write: boolean;
}

function parseOptions(argv: string[]): RunOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      subjects: { type: 'string' },
      sizes: { type: 'string' },
      'peer-sizes': { type: 'string' },
      'peer-timeout': { type: 'string', default: '900' },
      'report-only': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench -- [--quick] [--only burst,history,startup,pickup,steady,light,dialects,schedules]\n' +
        '                        [--subjects dbbeat,floor,bullmq,peer] [--sizes 1000,10000] [--peer-sizes 1000]\n' +
        '                        [--peer-timeout <seconds>] [--json] [--no-write] [--report-only]\n' +
        '  --quick       small sizes (burst 1k/10k, startup 10k, steady 1,000/s for 10 s): a few minutes\n' +
        "  --json        print this run's figures as JSON on stdout (tables go to stderr)\n" +
        '  --no-write    leave bench/results/latest.json, BENCHMARKS.md and README.md alone\n' +
        '  --report-only regenerate BENCHMARKS.md and README.md from bench/results/latest.json\n',
    );
    process.exit(0);
  }
  const list = (value: string | undefined, allowed: readonly string[], flag: string): string[] | undefined => {
    if (value === undefined) return undefined;
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = items.filter((item) => !allowed.includes(item));
    if (unknown.length > 0)
      throw new Error(`${flag}: unknown value(s) ${unknown.join(', ')}; expected ${allowed.join(', ')}`);
    return items;
  };
  const numbers = (value: string | undefined, flag: string) =>
    value?.split(',').map((s) => {
      const n = Number(s.replace(/_/g, ''));
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: "${s}" is not a positive whole number`);
      return n;
    });
  const sizes = numbers(values.sizes, '--sizes');
  const quick = values.quick;
  const peerTimeoutSeconds = Number(values['peer-timeout']);
  if (!(peerTimeoutSeconds > 0))
    throw new Error(`--peer-timeout: "${values['peer-timeout']}" is not a positive number of seconds`);
  return {
    quick,
    workloads: new Set(list(values.only, WORKLOADS, '--only') ?? WORKLOADS),
    subjects: new Set((list(values.subjects, SUBJECTS, '--subjects') as Subject[] | undefined) ?? SUBJECTS),
    burstSizes: sizes ?? (quick ? [1_000, 10_000] : [1_000, 10_000, 100_000, 1_000_000]),
    historySizes: (sizes ?? (quick ? [10_000] : [100_000])).filter((n) => n <= 100_000),
    startupSizes: sizes ?? (quick ? [10_000] : [100_000, 1_000_000]),
    pickupSizes: sizes ?? (quick ? [1_000] : [10_000, 100_000]),
    // Issue 15: burst 10k and 100k, startup and pickup among 100k, on PostgreSQL and MariaDB.
    dialectBurstSizes: sizes ?? (quick ? [1_000] : [10_000, 100_000]),
    dialectLoadedSize: sizes === undefined ? (quick ? 10_000 : 100_000) : Math.max(...sizes),
    // django-celery-beat needs about 15 minutes for 10k due runs: 1k unless asked.
    peerSizes: numbers(values['peer-sizes'], '--peer-sizes') ?? (sizes ?? [1_000]).filter((n) => n <= 10_000),
    // BullMQ's job schedulers: the 100k burst (and the smaller sizes).
    bullmqSizes: (sizes ?? (quick ? [1_000, 10_000] : [1_000, 10_000, 100_000])).filter((n) => n <= 1_000_000),
    peerTimeoutSeconds,
    reportOnly: values['report-only'],
    json: values.json,
    write: !values['no-write'],
  };
}

/** 3 runs where affordable, 1 for the big sizes (and for a quick smoke run). */
function repeatsFor(quick: boolean): (size: number) => number {
  return (size) => (quick || size > 10_000 ? 1 : 3);
}

function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function measure(options: RunOptions): Promise<{ figures: Figure[]; schedules: unknown }> {
  const figures: Figure[] = [];
  const repeats = repeatsFor(options.quick);
  const { workloads, subjects } = options;
  const dbbeat = (only: Set<string>, burstSizes: number[]) =>
    benchDbbeat({
      workloads: only,
      burstSizes,
      historySizes: options.historySizes,
      historyRounds: options.quick ? 1 : 2,
      startupSizes: options.startupSizes,
      pickupSizes: options.pickupSizes,
      pickupTries: options.quick ? 5 : PICKUP_TRIES,
      // steady: 10,000 runs due per second for a minute; light: 1,000 tasks due within a minute.
      steady: options.quick
        ? { tasks: 10_000, everySeconds: 10, durationSeconds: 10 }
        : { tasks: 100_000, everySeconds: 10, durationSeconds: 60 },
      light: { tasks: 1_000, everySeconds: 60, durationSeconds: options.quick ? 10 : 60 },
      repeats,
      log,
    });
  if (workloads.has('burst')) {
    // Size by size, each side right after the other, so a ratio compares the machine at
    // (nearly) the same load.
    for (const size of options.burstSizes) {
      if (subjects.has('floor')) figures.push(...(await benchFloor({ sizes: [size], repeats, log })));
      if (subjects.has('dbbeat')) figures.push(...(await dbbeat(new Set(['burst']), [size])));
      if (subjects.has('bullmq') && options.bullmqSizes.includes(size))
        figures.push(...(await benchBullmq({ sizes: [size], repeats, log })));
    }
  }
  const rest = new Set([...workloads].filter((w) => w !== 'burst'));
  if (subjects.has('dbbeat') && rest.size > 0) figures.push(...(await dbbeat(rest, [])));
  if (subjects.has('peer')) {
    figures.push(
      ...(await benchPeer({
        sizes: options.peerSizes,
        workloads,
        // The peer takes minutes at 10k: one run there.
        repeats: (size) => (size >= 10_000 ? 1 : repeats(size)),
        burstTimeoutMs: options.peerTimeoutSeconds * 1000,
        pickupLoaded: options.quick ? 1_000 : 10_000,
        pickupTries: options.quick ? 3 : 5,
        log,
      })),
    );
  }
  if (subjects.has('dbbeat') && workloads.has('dialects')) {
    figures.push(
      ...(await benchDialects({
        burstSizes: options.dialectBurstSizes,
        loadedSize: options.dialectLoadedSize,
        pickupTries: options.quick ? 5 : PICKUP_TRIES,
        log,
      })),
    );
  }
  let schedules: unknown = null;
  if (workloads.has('schedules') && existsSync(SCHEDULES_MODULE)) {
    // bench/schedules.ts belongs to the schedule engine; it may not exist yet.
    const specifier = './schedules.js';
    const module = (await import(specifier)) as { benchSchedules?: () => Promise<object> };
    if (typeof module.benchSchedules === 'function') {
      log('schedule engine micro-benchmark…');
      schedules = await module.benchSchedules();
    }
  }
  return { figures, schedules };
}

async function readResults(): Promise<BenchResults> {
  try {
    return JSON.parse(await readFile(RESULTS_FILE, 'utf8')) as BenchResults;
  } catch (error) {
    throw new Error(`${RESULTS_FILE} cannot be read (run the benchmark first): ${String(error)}`, { cause: error });
  }
}

/** BENCHMARKS.md and the README's generated region, from `results` alone. */
async function writeDocuments(results: BenchResults): Promise<void> {
  await writeFile(MARKDOWN_FILE, renderMarkdown(results, await readAnalysis()));
  const readme = await readFile(README_FILE, 'utf8');
  await writeFile(README_FILE, replaceReadmeRegion(readme, renderReadmeRegion(results)));
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.reportOnly) {
    const stored = await readResults();
    await writeDocuments(stored);
    process.stdout.write(`${renderConsoleTable(stored)}\n`);
    return;
  }
  // dbbeat is timed as users run it: built JavaScript. bin/dbbeat.js runs the sources through
  // tsx when src/ is newer than dist/, which would add seconds of compiling to every start.
  process.stderr.write('bench: building dist/ (npm run build)\n');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT_DIR, stdio: ['ignore', 'ignore', 'inherit'] });
  installSignalCleanup();
  const loadAverageAtStart = loadavg();
  const runId = new Date().toISOString();
  let measured: { figures: Figure[]; schedules: unknown };
  try {
    measured = await measure(options);
  } finally {
    await runAllCleanups();
  }
  // This run's figures alone: nothing is merged from earlier runs.
  const results: BenchResults = {
    runId,
    generatedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, loadAverageAtStart, loadAverageAtEnd: loadavg() },
    options: {
      quick: options.quick,
      workloads: [...options.workloads],
      subjects: [...options.subjects],
      burstSizes: options.burstSizes,
      startupSizes: options.startupSizes,
      pickupSizes: options.pickupSizes,
      dialectBurstSizes: options.dialectBurstSizes,
      dialectLoadedSize: options.dialectLoadedSize,
      peerSizes: options.peerSizes,
      bullmqSizes: options.bullmqSizes,
    },
    figures: measured.figures.map((f) => ({ ...f, runId, measuredAt: runId })),
    schedules: measured.schedules,
  };
  const table = renderConsoleTable(results);
  if (options.write) {
    await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
    await writeDocuments(results);
  }
  const wrote = options.write ? `\nWrote ${RESULTS_FILE}, ${MARKDOWN_FILE} and the README's table\n` : '';
  if (options.json) {
    process.stderr.write(`${table}\n${wrote}`);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    process.stdout.write(`${table}\n${wrote}`);
  }
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    await runAllCleanups();
    // After Ctrl-C the workload fails as its connections close; the signal handler exits.
    if (isShuttingDown()) return;
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
