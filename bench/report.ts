// Ratios and target verdicts, derived from one results file (one run). A target is "met"
// or "missed" only when every figure it needs was measured in the same run; otherwise it
// is "not measured".
import type { Figure, Subject } from './support/results.js';
import { round } from './support/stats.js';

/** Figure as stored: which run measured it. */
export interface StoredFigure extends Figure {
  runId: string;
  measuredAt: string;
}

export interface BenchResults {
  /** The run these figures come from (all of them). */
  runId?: string;
  generatedAt: string;
  machine: { cpus: number; node: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  /** Command-line options of the run. */
  options: Record<string, unknown>;
  figures: StoredFigure[];
  /** bench/schedules.ts's own report, when that workload ran. */
  schedules: unknown;
}

export interface Ratio {
  label: string;
  size: number;
  value: number | null;
  /** The value is a lower bound (one side timed out). */
  atLeast?: boolean;
  /** Why there is no value. */
  note?: string;
}

export interface TargetVerdict {
  target: string;
  measured: string;
  status: 'met' | 'missed' | 'not measured';
}

const GIB = 1024 ** 3;
const MB = 1000 ** 2;

export type FigureQuery = { workload: string; subject: Subject; size: number; metric: string; variant?: string };

/** Finds one figure; `variant` undefined matches any variant. */
export function findFigure(figures: readonly StoredFigure[], query: FigureQuery): StoredFigure | undefined {
  return figures.find(
    (f) =>
      f.workload === query.workload &&
      f.subject === query.subject &&
      f.size === query.size &&
      f.metric === query.metric &&
      (query.variant === undefined || f.variant === query.variant),
  );
}

/** top / bottom, only when both were measured in the same run. */
export function ratio(label: string, size: number, top?: StoredFigure, bottom?: StoredFigure): Ratio {
  if (top === undefined || bottom === undefined) return { label, size, value: null, note: 'missing' };
  if (top.runId !== bottom.runId) return { label, size, value: null, note: 'not measured in the same run' };
  if (top.value === null && top.atLeast !== undefined && bottom.value !== null && bottom.value > 0) {
    return {
      label,
      size,
      value: top.atLeast / bottom.value,
      atLeast: true,
      note: `at least: ${top.note ?? 'timed out'}`,
    };
  }
  if (top.value === null || bottom.value === null || bottom.value === 0)
    return { label, size, value: null, note: 'not measured' };
  return { label, size, value: top.value / bottom.value };
}

/** Burst ratios per size, from one run: dbbeat/floor, dbbeat/BullMQ, django-celery-beat/dbbeat. */
export function burstRatios(figures: readonly StoredFigure[]): Ratio[] {
  const sizes = [...new Set(figures.filter((f) => f.workload === 'burst').map((f) => f.size))].sort((a, b) => a - b);
  const ratios: Ratio[] = [];
  for (const size of sizes) {
    const of = (subject: Subject) => findFigure(figures, { workload: 'burst', subject, size, metric: 'seconds' });
    ratios.push(ratio('dbbeat / floor (time)', size, of('dbbeat'), of('floor')));
    ratios.push(ratio('dbbeat / BullMQ (time)', size, of('dbbeat'), of('bullmq')));
    ratios.push(ratio('django-celery-beat / dbbeat (time)', size, of('peer'), of('dbbeat')));
  }
  return ratios.filter((r) => r.note !== 'missing');
}

function verdict(target: string, measured: string, met: boolean): TargetVerdict {
  return { target, measured, status: met ? 'met' : 'missed' };
}

function notMeasured(target: string, measured = '—'): TargetVerdict {
  return { target, measured, status: 'not measured' };
}

/** `figure` ≤ `limit` (after `scale`), or not measured. */
function atMost(
  figures: readonly StoredFigure[],
  target: string,
  query: FigureQuery,
  limit: number,
  unit: string,
  scale = 1,
): TargetVerdict {
  const figure = findFigure(figures, query);
  if (figure?.value == null) return notMeasured(target, figure?.note ?? '—');
  const value = figure.value / scale;
  return verdict(target, `${fmt(value)} ${unit}`, value <= limit);
}

/** Several conditions that must all hold; not measured if any is. */
function all(target: string, parts: TargetVerdict[]): TargetVerdict {
  const measured = parts.map((p) => p.measured).join(', ');
  if (parts.some((p) => p.status === 'not measured')) return notMeasured(target, measured);
  return verdict(
    target,
    measured,
    parts.every((p) => p.status === 'met'),
  );
}

function floorRatio(figures: readonly StoredFigure[], size: number, limit: number): TargetVerdict {
  const r = burstRatios(figures).find((x) => x.size === size && x.label.startsWith('dbbeat / floor'));
  if (r?.value == null) return notMeasured('', r?.note ?? '—');
  return verdict('', `${fmt(r.value)}× the floor`, !r.atLeast && r.value <= limit);
}

/** Run history on against off, from one run: the burst with it on, in percent slower (negative: faster). */
export function historySlowdown(figures: readonly StoredFigure[], size: number): Ratio {
  const of = (variant: string) =>
    findFigure(figures, { workload: 'history', subject: 'dbbeat', size, metric: 'seconds', variant });
  const r = ratio('history on / off (time)', size, of('history on'), of('history off'));
  return r.value === null ? r : { ...r, value: (r.value - 1) * 100 };
}

/** Issue 16: with run history on, the burst is at most 10 % slower than with it off. */
function historyCost(figures: readonly StoredFigure[], size: number): TargetVerdict {
  const target = `burst ${sizeLabel(size)} with run history: ≤ 10 % slower than without (issue 16)`;
  const r = historySlowdown(figures, size);
  if (r.value === null) return notMeasured(target, r.note ?? '—');
  return verdict(target, `${r.value >= 0 ? '+' : ''}${fmt(r.value)} %`, r.value <= 10);
}

/** The targets (issue 18, plus the change pickup target of the earlier work) beside what was measured. */
export function targetVerdicts(figures: readonly StoredFigure[]): TargetVerdict[] {
  const burst = (size: number, subject: Subject = 'dbbeat', metric = 'seconds'): FigureQuery => ({
    workload: 'burst',
    subject,
    size,
    metric,
  });
  const startup = (size: number, variant: string, metric: string): FigureQuery => ({
    workload: 'startup',
    subject: 'dbbeat',
    size,
    variant,
    metric,
  });
  const steady = (metric: string): FigureQuery => ({ workload: 'steady', subject: 'dbbeat', size: 10_000, metric });
  const verdicts: TargetVerdict[] = [];
  verdicts.push({ ...floorRatio(figures, 100_000, 2), target: 'burst 100k: ≤ 2× the floor, process start included' });
  verdicts.push(historyCost(figures, 100_000));
  verdicts.push(
    all('burst 1M: ≤ 2× the floor, peak RSS ≤ 1 GiB', [
      floorRatio(figures, 1_000_000, 2),
      atMost(figures, '', burst(1_000_000, 'dbbeat', 'peak_rss_bytes'), 1, 'GiB RSS', GIB),
    ]),
  );
  for (const variant of ['after ANALYZE', 'no statistics']) {
    verdicts.push(
      all(`startup 1M (${variant}): ≤ 5 s, ≤ 500 MB RSS`, [
        atMost(figures, '', startup(1_000_000, variant, 'seconds'), 5, 's'),
        atMost(figures, '', startup(1_000_000, variant, 'peak_rss_bytes'), 500, 'MB', MB),
      ]),
    );
  }
  verdicts.push(
    atMost(figures, 'startup 100k (after ANALYZE): ≤ 1 s', startup(100_000, 'after ANALYZE', 'seconds'), 1, 's'),
  );
  verdicts.push(
    all('steady 10,000/s for a minute: lag p99 ≤ 50 ms, max ≤ 200 ms, none missing', [
      atMost(figures, '', steady('lag_p99_ms'), 50, 'ms p99'),
      atMost(figures, '', steady('lag_max_ms'), 200, 'ms max'),
      atMost(figures, '', steady('runs_missing'), 0, 'missing'),
    ]),
  );
  const versus = burstRatios(figures).find((r) => r.size === 100_000 && r.label.startsWith('dbbeat / BullMQ'));
  verdicts.push(
    versus?.value != null
      ? verdict('burst 100k: faster than BullMQ', `${fmt(versus.value)}× BullMQ's time`, versus.value < 1)
      : notMeasured('burst 100k: faster than BullMQ', versus?.note ?? '—'),
  );
  for (const variant of ['raw SQL', 'Prisma client']) {
    verdicts.push(
      atMost(
        figures,
        `change pickup p99 ≤ 100 ms at 100k tasks (${variant})`,
        { workload: 'pickup', subject: 'dbbeat', size: 100_000, metric: 'pickup_p99_ms', variant },
        100,
        'ms',
      ),
    );
  }
  return verdicts;
}

/** A number for people: 3 significant digits, thousands separated. */
export function fmt(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const rounded = round(value);
  return Math.abs(rounded) >= 1000 ? Math.round(rounded).toLocaleString('en-US') : String(rounded);
}

export function sizeLabel(size: number): string {
  return size >= 1_000_000 ? `${size / 1_000_000}M` : size >= 1000 ? `${size / 1000}k` : String(size);
}
