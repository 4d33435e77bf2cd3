// `dbbeat next`: preview the run times of a schedule, for people (flags) and
// for tools (`--batch`, JSON lines on stdin and stdout).

import { createInterface } from 'node:readline';

import type { Command } from 'commander';
import { DateTime } from 'luxon';

import { previewRuns } from '../beat/preview-runs.js';
import { OptionsError, resolveConfig } from '../config.js';
import { ScheduleError, buildSchedule, zoneProblem } from '../schedules/index.js';
import { formatInstant, parseInstant, specFromJson } from '../schedules/json-form.js';
import type { ScheduleSpec } from '../schedules/types.js';

/** Exit code for input the user must correct. */
const USAGE_EXIT_CODE = 2;
/** Most runs one request may ask for. */
const MAX_COUNT = 10_000;
/** Flush batch output once this many characters are waiting. */
const OUTPUT_CHUNK_CHARS = 64 * 1024;

interface NextOptions {
  crontab?: string;
  tz?: string;
  interval?: string;
  solar?: string;
  lat?: string;
  lon?: string;
  clocked?: string;
  after?: string;
  count: string;
  batch?: boolean;
}

/** An error in the command line, reported with exit code 2. */
class UsageError extends Error {}

/** `dbbeat next`: registers the subcommand on the program. */
export function registerNextCommand(program: Command): void {
  program
    .command('next')
    .description('preview run times of a schedule')
    .option('--crontab <fields>', 'crontab in cron order: "minute hour day_of_month month_of_year day_of_week"')
    .option(
      '--tz <zone>',
      'IANA time zone of the crontab, and of the local times shown (env CELERY_TIMEZONE; default UTC)',
    )
    .option('--interval <every period>', 'interval, e.g. "90 seconds" (days, hours, minutes, seconds, microseconds)')
    .option('--solar <event>', 'solar event, e.g. sunrise, sunset, solar_noon, dusk_civil')
    .option('--lat <degrees>', 'latitude for --solar')
    .option('--lon <degrees>', 'longitude for --solar')
    .option('--clocked <time>', 'clocked time, ISO 8601 with a zone, e.g. 2026-12-01T10:00:00Z')
    .option('--after <time>', 'list runs after this ISO 8601 instant (default: now)')
    .option('-n, --count <n>', 'how many runs to list', '5')
    .option('--batch', 'read JSON lines {"schedule", "after", "count"} on stdin, write {"next"} or {"error"} lines')
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : USAGE_EXIT_CODE))
    .action(async (options: NextOptions) => {
      try {
        // A zone the user typed is named by its flag, not by the setting it overrides.
        const typedZoneProblem = options.tz === undefined ? null : zoneProblem(options.tz);
        if (typedZoneProblem !== null) throw new UsageError(`--tz "${options.tz}" ${typedZoneProblem}`);
        if (options.batch) await runBatch();
        // Database-free: only CELERY_TIMEZONE of the environment counts (not DATABASE_URL).
        else
          printRuns({
            ...options,
            tz: resolveConfig({ timezone: options.tz }, { CELERY_TIMEZONE: process.env.CELERY_TIMEZONE }).timezone,
          });
      } catch (error) {
        if (!(error instanceof UsageError || error instanceof ScheduleError || error instanceof OptionsError))
          throw error;
        process.stderr.write(`dbbeat next: ${error.message}\n`);
        process.exit(USAGE_EXIT_CODE);
      }
    });
}

function parseCount(text: unknown, where: string): number {
  const count = typeof text === 'string' && /^\d+$/.test(text.trim()) ? Number(text) : text;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > MAX_COUNT) {
    throw new UsageError(`${where}: ${JSON.stringify(text)} must be a whole number from 0 to ${MAX_COUNT}`);
  }
  return count;
}

// ---- person form ----

function specFromOptions(options: NextOptions): ScheduleSpec {
  const chosen = (['crontab', 'interval', 'solar', 'clocked'] as const).filter((kind) => options[kind] !== undefined);
  if (chosen.length !== 1) {
    throw new UsageError('give exactly one of --crontab, --interval, --solar, --clocked (or --batch)');
  }
  if (options.crontab !== undefined) {
    const fields = options.crontab.trim().split(/\s+/);
    if (fields.length !== 5) {
      throw new UsageError(
        `--crontab "${options.crontab}" has ${fields.length} fields; give 5: minute hour day_of_month month_of_year day_of_week`,
      );
    }
    const [minute, hour, dayOfMonth, monthOfYear, dayOfWeek] = fields as [string, string, string, string, string];
    return { kind: 'crontab', minute, hour, dayOfMonth, monthOfYear, dayOfWeek, timezone: options.tz ?? 'UTC' };
  }
  if (options.interval !== undefined) {
    const match = /^\s*(\d+)\s+([a-z]+)\s*$/i.exec(options.interval);
    if (!match) throw new UsageError(`--interval "${options.interval}" should look like "90 seconds"`);
    return { kind: 'interval', every: Number(match[1]), period: match[2]!.toLowerCase() };
  }
  if (options.solar !== undefined) {
    if (options.lat === undefined || options.lon === undefined) throw new UsageError('--solar needs --lat and --lon');
    for (const [flag, text] of [
      ['--lat', options.lat],
      ['--lon', options.lon],
    ] as const) {
      if (text.trim() === '' || !Number.isFinite(Number(text)))
        throw new UsageError(`${flag} "${text}" is not a number of degrees (e.g. 52.52)`);
    }
    return { kind: 'solar', event: options.solar, latitude: Number(options.lat), longitude: Number(options.lon) };
  }
  const clockedTime = parseInstant(options.clocked!);
  if (clockedTime === null) {
    throw new UsageError(
      `--clocked "${options.clocked}" is not an ISO 8601 time with a zone (e.g. 2026-12-01T10:00:00Z)`,
    );
  }
  return { kind: 'clocked', clockedTime };
}

function printRuns(options: NextOptions): void {
  const spec = specFromOptions(options);
  const count = parseCount(options.count, '--count');
  const schedule = buildSchedule(spec);
  let after = new Date();
  if (options.after !== undefined) {
    const parsed = parseInstant(options.after);
    if (parsed === null) throw new UsageError(`--after "${options.after}" is not an ISO 8601 time with a zone`);
    after = parsed;
  }
  const zone = spec.kind === 'crontab' ? spec.timezone : (options.tz ?? 'UTC');
  const problem = zoneProblem(zone);
  if (problem !== null) throw new UsageError(`--tz "${zone}" ${problem}`);

  const lines = [`${schedule.describe()}, runs after ${formatInstant(after)}:`];
  const runs = previewRuns(schedule, after, count);
  runs.forEach((run, index) => {
    const local = DateTime.fromJSDate(run.at, { zone }).toFormat('ccc yyyy-LL-dd HH:mm:ss ZZ');
    const note = run.overdue
      ? '  its time has passed: beat sends it at once, once'
      : run.dstMove === 'gap'
        ? '  DST: moved forward out of the skipped hour'
        : run.dstMove
          ? '  DST: second pass of the repeated hour'
          : '';
    lines.push(`${String(index + 1).padStart(4)}  ${local} ${zone}  ${formatInstant(run.at)}${note}`);
  });
  if (runs.length < count) lines.push(runs.length === 0 ? '  (no run to come)' : '  (no more runs)');
  process.stdout.write(`${lines.join('\n')}\n`);
}

// ---- batch form ----

/** The answer to one batch line: `{"next": [...]}` or `{"error": "..."}`. */
export function answerBatchLine(line: string): string {
  try {
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch {
      throw new UsageError(`line is not JSON: ${line.length > 80 ? `${line.slice(0, 80)}...` : line}`);
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      throw new UsageError('line must be an object {"schedule", "after", "count"}');
    }
    const { schedule: form, after: afterText, count: countValue } = request as Record<string, unknown>;
    const schedule = buildSchedule(specFromJson(form));
    const after = typeof afterText === 'string' ? parseInstant(afterText) : null;
    if (after === null) throw new UsageError(`after: ${JSON.stringify(afterText)} is not an ISO 8601 time with a zone`);
    const count = parseCount(countValue ?? 1, 'count');
    const next: string[] = [];
    let last: Date | null = after;
    while (next.length < count && (last = schedule.nextAfter(last)) !== null) next.push(formatInstant(last));
    return JSON.stringify({ next });
  } catch (error) {
    return JSON.stringify({ error: error instanceof Error ? error.message : String(error) });
  }
}

async function runBatch(): Promise<void> {
  const input = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  let pending: string[] = [];
  let pendingChars = 0;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    pendingChars = 0;
    if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  };
  for await (const line of input) {
    if (line.trim() === '') continue;
    const answer = `${answerBatchLine(line)}\n`;
    pending.push(answer);
    pendingChars += answer.length;
    if (pendingChars >= OUTPUT_CHUNK_CHARS) await flush();
  }
  await flush();
}
