// Turns the collected figures into ratios, target verdicts, a console table and
// BENCHMARKS.md. Everything here is derived from bench/results/latest.json alone.
import type { Figure, Subject } from './support/results.js';
import { round } from './support/stats.js';

/** Figure as stored: which run measured it and when. */
export interface StoredFigure extends Figure {
  runId: string;
  measuredAt: string;
}

export interface BenchResults {
  generatedAt: string;
  machine: { cpus: number; node: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  /** Per run that contributed figures: its options and the machine's load around it. */
  runs?: Record<string, RunInfo>;
  /** Command-line options of the last run. */
  options: Record<string, unknown>;
  figures: StoredFigure[];
  /** bench/schedules.ts's own report, when that module exists. */
  schedules: unknown;
}

export interface RunInfo {
  options: Record<string, unknown>;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
}

export interface Ratio {
  label: string;
  size: number;
  value: number | null;
  /** The value is a lower bound (one side timed out). */
  atLeast?: boolean;
  /** Why there is no value, or that the two sides come from different runs. */
  note?: string;
}

export interface TargetVerdict {
  target: string;
  measured: string;
  status: 'met' | 'missed' | 'not measured';
}

const BYTES_PER_GIB = 1024 ** 3;

/** Finds one figure; `variant` undefined matches figures without a variant. */
export function findFigure(
  figures: readonly StoredFigure[],
  query: { workload: string; subject: Subject; size: number; metric: string; variant?: string },
): StoredFigure | undefined {
  return figures.find(
    (f) =>
      f.workload === query.workload &&
      f.subject === query.subject &&
      f.size === query.size &&
      f.metric === query.metric &&
      (query.variant === undefined || f.variant === query.variant),
  );
}

/** Burst ratios per size: dbbeat/floor and peer/dbbeat, only from figures of one run. */
export function burstRatios(figures: readonly StoredFigure[]): Ratio[] {
  const sizes = [...new Set(figures.filter((f) => f.workload === 'burst').map((f) => f.size))].sort((a, b) => a - b);
  const ratios: Ratio[] = [];
  for (const size of sizes) {
    const of = (subject: Subject) => findFigure(figures, { workload: 'burst', subject, size, metric: 'seconds' });
    ratios.push(ratio('dbbeat / floor (burst time)', size, of('dbbeat'), of('floor')));
    ratios.push(ratio('peer / dbbeat (burst time)', size, of('peer'), of('dbbeat')));
  }
  return ratios.filter((r) => r.value !== null || r.note !== 'missing');
}

function ratio(label: string, size: number, top?: StoredFigure, bottom?: StoredFigure): Ratio {
  if (top === undefined || bottom === undefined) return { label, size, value: null, note: 'missing' };
  if (top.value === null && top.atLeast !== undefined && bottom.value !== null && bottom.value > 0) {
    // The numerator timed out: the ratio is at least timeout / other side.
    const note = `at least: ${top.note ?? 'timed out'}${top.runId === bottom.runId ? '' : '; sides from different runs'}`;
    return { label, size, value: top.atLeast / bottom.value, atLeast: true, note };
  }
  if (top.value === null || bottom.value === null || bottom.value === 0) {
    const timedOut = top.value === null && top.note !== undefined ? `numerator: ${top.note}` : 'not measured';
    return { label, size, value: null, note: timedOut };
  }
  const value = top.value / bottom.value;
  return top.runId === bottom.runId ? { label, size, value } : { label, size, value, note: 'sides from different runs' };
}

/** The issue's targets beside what was measured. */
export function targetVerdicts(figures: readonly StoredFigure[]): TargetVerdict[] {
  const ratios = burstRatios(figures);
  const verdicts: TargetVerdict[] = [];
  const peerRatio = ratios.find((r) => r.size === 10_000 && r.label.startsWith('peer'));
  const peer10k = findFigure(figures, { workload: 'burst', subject: 'peer', size: 10_000, metric: 'seconds' });
  const dbbeat10k = findFigure(figures, { workload: 'burst', subject: 'dbbeat', size: 10_000, metric: 'seconds' });
  if (peerRatio?.value != null) {
    const shown = `${peerRatio.atLeast ? '≥ ' : ''}${fmt(peerRatio.value)}×`;
    // A lower bound below 100 decides nothing: the peer might be slower still.
    const decided = !peerRatio.atLeast || peerRatio.value >= 100;
    verdicts.push(
      decided
        ? verdict('burst 10k: ≥100× faster than django-celery-beat', shown, peerRatio.value >= 100)
        : { target: 'burst 10k: ≥100× faster than django-celery-beat', measured: shown, status: 'not measured' },
    );
  } else if (peer10k?.value === null && dbbeat10k?.value != null) {
    // The peer timed out: its time is at least the timeout, so the ratio is a lower bound.
    verdicts.push({ target: 'burst 10k: ≥100× faster than django-celery-beat', measured: `peer: ${peer10k.note ?? 'timed out'}`, status: 'not measured' });
  } else {
    verdicts.push(notMeasured('burst 10k: ≥100× faster than django-celery-beat'));
  }
  const floorRatio = ratios.find((r) => r.size === 10_000 && r.label.startsWith('dbbeat / floor'));
  verdicts.push(
    floorRatio?.value != null
      ? verdict('burst 10k: within 2× of the floor', `${fmt(floorRatio.value)}×`, floorRatio.value <= 2)
      : notMeasured('burst 10k: within 2× of the floor'),
  );
  verdicts.push(threshold(figures, '1M due tasks sent in < 60 s', { workload: 'burst', subject: 'dbbeat', size: 1_000_000, metric: 'seconds' }, 60, 's'));
  verdicts.push(threshold(figures, 'startup with 1M tasks < 20 s', { workload: 'startup', subject: 'dbbeat', size: 1_000_000, metric: 'seconds' }, 20, 's'));
  const rss = findFigure(figures, { workload: 'startup', subject: 'dbbeat', size: 1_000_000, metric: 'peak_rss_bytes' });
  verdicts.push(
    rss?.value != null
      ? verdict('startup with 1M tasks < 1 GiB RSS', `${fmt(rss.value / BYTES_PER_GIB)} GiB`, rss.value < BYTES_PER_GIB)
      : notMeasured('startup with 1M tasks < 1 GiB RSS'),
  );
  for (const variant of ['raw SQL', 'Prisma client']) {
    verdicts.push(
      threshold(figures, `change pickup p99 < 100 ms at 100k tasks (${variant})`, { workload: 'pickup', subject: 'dbbeat', size: 100_000, metric: 'pickup_p99_ms', variant }, 100, 'ms'),
    );
  }
  verdicts.push(threshold(figures, 'steady-state lag p99 < 50 ms', { workload: 'steady', subject: 'dbbeat', size: 10_000, metric: 'lag_p99_ms' }, 50, 'ms'));
  return verdicts;
}

function threshold(
  figures: readonly StoredFigure[],
  target: string,
  query: Parameters<typeof findFigure>[1],
  limit: number,
  unit: string,
): TargetVerdict {
  const figure = findFigure(figures, query);
  if (figure?.value == null) return { ...notMeasured(target), ...(figure?.note ? { measured: figure.note } : {}) };
  return verdict(target, `${fmt(figure.value)} ${unit}`, figure.value < limit);
}

function verdict(target: string, measured: string, met: boolean): TargetVerdict {
  return { target, measured, status: met ? 'met' : 'missed' };
}

function notMeasured(target: string): TargetVerdict {
  return { target, measured: '—', status: 'not measured' };
}

/** A number for people: 3 significant digits, thousands separated. */
export function fmt(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const rounded = round(value);
  return Math.abs(rounded) >= 1000 ? Math.round(rounded).toLocaleString('en-US') : String(rounded);
}

function sizeLabel(size: number): string {
  return size >= 1_000_000 ? `${size / 1_000_000}M` : size >= 1000 ? `${size / 1000}k` : String(size);
}

function cell(figure: StoredFigure | undefined, scale = 1): string {
  if (figure === undefined) return '—';
  if (figure.value === null) {
    if (figure.atLeast !== undefined) return `> ${fmt(figure.atLeast / scale)} (${figure.note ?? 'timed out'})`;
    return figure.note ? `n/a (${figure.note})` : 'n/a';
  }
  return fmt(figure.value / scale);
}

/** Rows of the side-by-side table: one per workload, size and metric. */
export function comparisonRows(figures: readonly StoredFigure[]): string[][] {
  const rows: string[][] = [];
  const keys = new Map<string, { workload: string; size: number; metric: string; variant?: string; unit: string }>();
  for (const f of figures) {
    if (f.metric === 'runs_per_second') continue; // shown beside seconds
    const key = `${f.workload}|${f.size}|${f.metric}|${f.variant ?? ''}`;
    if (!keys.has(key)) keys.set(key, { workload: f.workload, size: f.size, metric: f.metric, unit: f.unit, ...(f.variant ? { variant: f.variant } : {}) });
  }
  const order = ['burst', 'startup', 'pickup', 'steady'];
  const sorted = [...keys.values()].sort(
    (a, b) => order.indexOf(a.workload) - order.indexOf(b.workload) || a.size - b.size || a.metric.localeCompare(b.metric) || (a.variant ?? '').localeCompare(b.variant ?? ''),
  );
  for (const key of sorted) {
    const isRss = key.metric === 'peak_rss_bytes';
    const scale = isRss ? 1024 ** 2 : 1;
    const unit = isRss ? 'MiB' : key.unit;
    const of = (subject: Subject) => findFigure(figures, { ...key, subject, ...(key.variant ? { variant: key.variant } : {}) });
    const withRate = (subject: Subject): string => {
      const base = cell(of(subject), scale);
      if (key.workload !== 'burst' || key.metric !== 'seconds') return base;
      const seconds = of(subject)?.value;
      // runs/s = N / seconds, for every side alike.
      return seconds != null && seconds > 0 ? `${base} (${fmt(key.size / seconds)}/s)` : base;
    };
    const label = `${key.workload} ${sizeLabel(key.size)}${key.variant ? ` (${key.variant})` : ''}`;
    rows.push([label, `${key.metric} [${unit}]`, withRate('dbbeat'), withRate('peer'), withRate('floor')]);
  }
  return rows;
}

/** A plain-text table for the console. */
export function renderConsoleTable(results: BenchResults): string {
  const header = ['workload', 'metric', 'dbbeat', 'django-celery-beat', 'floor'];
  const rows = [header, ...comparisonRows(results.figures)];
  const widths = header.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const ratioLines = burstRatios(results.figures).map((r) => `  ${r.label} at ${sizeLabel(r.size)}: ${r.value === null ? r.note : `${r.atLeast ? '≥ ' : ''}${fmt(r.value)}×`}${r.value !== null && r.note ? ` (${r.note})` : ''}`);
  const targetLines = targetVerdicts(results.figures).map((v) => `  [${v.status}] ${v.target}: ${v.measured}`);
  return [...lines, '', 'Ratios (same run):', ...ratioLines, '', 'Targets:', ...targetLines].join('\n');
}

/** BENCHMARKS.md, regenerated from the results. */
/**
 * BENCHMARKS.md from the stored figures, followed by `analysis` (bench/ANALYSIS.md: the
 * hand-written profile of each missed target and what was changed for it).
 */
export function renderMarkdown(results: BenchResults, analysis = ''): string {
  const table = (header: string[], rows: string[][]) =>
    [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`)].join('\n');
  const notes = results.figures
    .filter((f) => f.note !== undefined && f.value !== null)
    .map((f) => `- ${f.subject} ${f.workload} ${sizeLabel(f.size)} ${f.metric}${f.variant ? ` (${f.variant})` : ''}: ${f.note}`);
  const runs = [...new Set(results.figures.map((f) => f.runId))].sort();
  const { machine } = results;
  return `# Benchmarks

<!-- Generated by \`npm run bench\` from bench/results/latest.json; do not edit by hand. -->

dbbeat against the real django-celery-beat (Debian's 2.4 on Celery 5.2, \`celery beat -S django_celery_beat.schedulers:DatabaseScheduler\`)
and against the **floor**: a plain loop that reads due rows, pipelines one LPUSH per message (dbbeat's own protocol-2 envelope)
and records \`last_run_at\` with one batched UPDATE per 5,000 rows: no scheduling at all, the fastest this machine can send.
Everyone uses the same PostgreSQL 127.0.0.1:5432 and Redis 127.0.0.1:6379, each on a fresh database.

Generated ${results.generatedAt} on ${machine.cpus} CPUs, Node ${machine.node}. Load average at start ${machine.loadAverageAtStart.map(fmt).join(' / ')}, at end ${machine.loadAverageAtEnd.map(fmt).join(' / ')}
(other work shared the machine; figures from a loaded machine are slower than on an idle one).

## Targets

${table(['target', 'measured', 'status'], targetVerdicts(results.figures).map((v) => [v.target, v.measured, v.status]))}

## Side by side

${table(['workload', 'metric', 'dbbeat', 'django-celery-beat', 'floor'], comparisonRows(results.figures))}

Ratios, from figures measured in the same run:

${table(['ratio', 'tasks', 'value'], burstRatios(results.figures).map((r) => [r.label, sizeLabel(r.size), r.value === null ? (r.note ?? '—') : `${r.atLeast ? '≥ ' : ''}${fmt(r.value)}×${r.note ? ` (${r.note})` : ''}`]))}

${notes.length > 0 ? `Notes:\n\n${notes.join('\n')}\n` : ''}
## What each workload measures

- **burst N**: N interval tasks all due at start (\`last_run_at\` a day ago; django-celery-beat 2.4 reads a null \`last_run_at\` as "now", so a new row is never due at start).
  Seconds from process start (spawn) until all N messages are in the Redis list (plain list plus kombu's priority lists); runs/s = N / seconds.
  The floor's time excludes process start and row setup.
- **startup N**: N enabled tasks, none due; seconds from spawn until dbbeat logs its "ready" line, and the peak resident set (VmHWM) then.
- **pickup N**: N tasks loaded (none due) and the beat ready; one due task inserted, with raw SQL or through the Prisma client
  (for django-celery-beat: raw SQL plus the \`PeriodicTasks\` bump Django's signals make); time from the start of the insert until its message is in Redis.
- **steady 10k**: 10,000 interval tasks every 10 s, spread evenly so ~1,000 fall due each second, for a minute;
  lag = arrival in Redis (a consumer draining the list with BRPOP + RPOP) minus the scheduled time in the \`dbbeat_scheduled_at\` header.

Each figure is the median of the runs shown in bench/results/latest.json (\`runs\`), percentiles are over all samples.
Runs (load average 1/5/15 min at start → end; 2 CPUs shared with other work):

${runs.map((run) => {
    const info = results.runs?.[run.split(' ')[0]!];
    if (info === undefined) return `- ${run}`;
    const only = Array.isArray(info.options.workloads) ? info.options.workloads.join(',') : '';
    const who = Array.isArray(info.options.subjects) ? info.options.subjects.join(',') : '';
    return `- ${run.split(' ')[0]}: ${who} / ${only}; load ${info.loadAverageAtStart.map(fmt).join(' ')} → ${info.loadAverageAtEnd.map(fmt).join(' ')}`;
  }).join('\n')}

Reproduce: \`npm run bench\` (everything; about half an hour, most of it django-celery-beat), \`npm run bench -- --quick\` (1k only),
\`--only burst,startup,pickup,steady,schedules\`, \`--subjects dbbeat,peer,floor\`, \`--sizes 1000,10000\`.
${results.schedules === null || results.schedules === undefined ? '' : `\n## Schedule engine\n\n\`\`\`json\n${JSON.stringify(results.schedules, null, 2)}\n\`\`\`\n`}${analysis === '' ? '' : `\n${analysis.trimEnd()}\n`}`;
}
