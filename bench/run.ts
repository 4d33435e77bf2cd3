// `npm run bench`: dbbeat, django-celery-beat and the floor side by side in one run.
// Prints a table, merges the figures into bench/results/latest.json and regenerates
// BENCHMARKS.md from it. Every process and database it creates is removed at the end,
// on failure and on Ctrl-C.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { benchDbbeat } from './dbbeat-figures.js';
import { benchFloor } from './floor.js';
import { benchPeer } from './peer.js';
import { type BenchResults, renderConsoleTable, renderMarkdown, type StoredFigure } from './report.js';
import { installSignalCleanup, isShuttingDown, runAllCleanups } from './support/cleanup.js';
import type { Figure, Subject } from './support/results.js';

const RESULTS_FILE = fileURLToPath(new URL('./results/latest.json', import.meta.url));
const MARKDOWN_FILE = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
/** Hand-written: why each missed target is missed, and what changed for it. */
const ANALYSIS_FILE = fileURLToPath(new URL('./ANALYSIS.md', import.meta.url));
const readAnalysis = () => readFile(ANALYSIS_FILE, 'utf8').catch(() => '');
const SCHEDULES_MODULE = fileURLToPath(new URL('./schedules.ts', import.meta.url));

const WORKLOADS = ['burst', 'startup', 'pickup', 'steady', 'schedules'] as const;
const SUBJECTS: readonly Subject[] = ['dbbeat', 'peer', 'floor'];

interface RunOptions {
  quick: boolean;
  workloads: Set<string>;
  subjects: Set<Subject>;
  burstSizes: number[];
  startupSizes: number[];
  pickupSizes: number[];
  peerTimeoutSeconds: number;
  reportOnly: boolean;
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
      'peer-timeout': { type: 'string', default: '900' },
      'report-only': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench -- [--quick] [--only burst,startup,pickup,steady,schedules] [--subjects dbbeat,peer,floor]\n' +
        '                        [--sizes 1000,10000] [--peer-timeout <seconds>] [--report-only]\n',
    );
    process.exit(0);
  }
  const list = (value: string | undefined, allowed: readonly string[], flag: string): string[] | undefined => {
    if (value === undefined) return undefined;
    const items = value.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = items.filter((item) => !allowed.includes(item));
    if (unknown.length > 0) throw new Error(`${flag}: unknown value(s) ${unknown.join(', ')}; expected ${allowed.join(', ')}`);
    return items;
  };
  const sizes = values.sizes?.split(',').map((s) => {
    const n = Number(s.replace(/_/g, ''));
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--sizes: "${s}" is not a positive whole number`);
    return n;
  });
  const quick = values.quick;
  const peerTimeoutSeconds = Number(values['peer-timeout']);
  if (!(peerTimeoutSeconds > 0)) throw new Error(`--peer-timeout: "${values['peer-timeout']}" is not a positive number of seconds`);
  return {
    quick,
    workloads: new Set(list(values.only, WORKLOADS, '--only') ?? WORKLOADS),
    subjects: new Set((list(values.subjects, SUBJECTS, '--subjects') as Subject[] | undefined) ?? SUBJECTS),
    burstSizes: sizes ?? (quick ? [1_000] : [1_000, 10_000, 100_000, 1_000_000]),
    startupSizes: sizes ?? (quick ? [1_000] : [100_000, 1_000_000]),
    pickupSizes: sizes ?? (quick ? [1_000] : [10_000, 100_000]),
    peerTimeoutSeconds,
    reportOnly: values['report-only'],
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
  if (subjects.has('floor') && workloads.has('burst')) {
    figures.push(...(await benchFloor({ sizes: options.burstSizes, repeats, log })));
  }
  if (subjects.has('dbbeat')) {
    figures.push(
      ...(await benchDbbeat({
        workloads,
        burstSizes: options.burstSizes,
        startupSizes: options.startupSizes,
        pickupSizes: options.pickupSizes,
        pickupTries: options.quick ? 5 : 20,
        steady: options.quick ? { tasks: 1_000, everySeconds: 10, durationSeconds: 10 } : { tasks: 10_000, everySeconds: 10, durationSeconds: 60 },
        repeats,
        log,
      })),
    );
  }
  if (subjects.has('peer')) {
    figures.push(
      ...(await benchPeer({
        sizes: options.burstSizes,
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

/** Figures of this run replace earlier ones with the same key; the rest are kept. */
function merge(previous: StoredFigure[], fresh: StoredFigure[]): StoredFigure[] {
  const key = (f: Figure) => `${f.workload}|${f.subject}|${f.size}|${f.metric}|${f.variant ?? ''}`;
  const freshKeys = new Set(fresh.map(key));
  return [...previous.filter((f) => !freshKeys.has(key(f))), ...fresh];
}

async function readPrevious(): Promise<BenchResults | null> {
  try {
    return JSON.parse(await readFile(RESULTS_FILE, 'utf8')) as BenchResults;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const previous = await readPrevious();
  if (options.reportOnly) {
    if (previous === null) throw new Error(`${RESULTS_FILE} does not exist yet: run the benchmark first`);
    await writeFile(MARKDOWN_FILE, renderMarkdown(previous, await readAnalysis()));
    process.stdout.write(`${renderConsoleTable(previous)}\n`);
    return;
  }
  installSignalCleanup();
  const loadAverageAtStart = loadavg();
  const runId = new Date().toISOString();
  let measured: { figures: Figure[]; schedules: unknown };
  try {
    measured = await measure(options);
  } finally {
    await runAllCleanups();
  }
  const fresh = measured.figures.map((f) => ({ ...f, runId, measuredAt: runId }));
  const figures = merge(previous?.figures ?? [], fresh);
  const runOptions = {
    quick: options.quick,
    workloads: [...options.workloads],
    subjects: [...options.subjects],
    burstSizes: options.burstSizes,
    startupSizes: options.startupSizes,
    pickupSizes: options.pickupSizes,
  };
  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, loadAverageAtStart, loadAverageAtEnd: loadavg() },
    options: runOptions,
    runs: Object.fromEntries(
      Object.entries({
        ...previous?.runs,
        [runId]: { options: runOptions, loadAverageAtStart, loadAverageAtEnd: loadavg() },
      }).filter(([id]) => figures.some((f) => f.runId === id)),
    ),
    figures,
    schedules: measured.schedules ?? previous?.schedules ?? null,
  };
  await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(MARKDOWN_FILE, renderMarkdown(results, await readAnalysis()));
  process.stdout.write(`${renderConsoleTable(results)}\n\nWrote ${RESULTS_FILE} and ${MARKDOWN_FILE}\n`);
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
