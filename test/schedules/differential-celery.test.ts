// Differential fuzzing against the live Celery 5.2 / django-celery-beat: thousands
// of seeded random schedules (crontab, interval, solar, clocked, and crontab fields
// Celery may reject) and awkward reference times, answered by Celery through
// /usr/bin/python3 (test/schedules/celery_reference.py) and by dbbeat's engine and
// `dbbeat next --batch`. Every disagreement must be one that test/fixtures/README.md
// documents; anything else fails with the case in a form to replay.
//
//   DBBEAT_FUZZ_SEED=123 DBBEAT_FUZZ_CASES=10000 node scripts/run-tests.mjs test/schedules/differential-celery.test.ts

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

import { type CeleryAnswer, askCelery, checkSolarRuns } from './fuzz/celery-reference.js';
import { type DbbeatAnswer, type SolarCheck, askDbbeat, judge, solarRunsToCheck } from './fuzz/compare.js';
import { type FuzzCase, randomCases } from './fuzz/random-cases.js';

const SEED = Number(process.env['DBBEAT_FUZZ_SEED'] ?? 20_261_130);
const CASES = Number(process.env['DBBEAT_FUZZ_CASES'] ?? 3000);
const BIN = new URL('../../bin/dbbeat.js', import.meta.url).pathname;

interface Run {
  cases: FuzzCase[];
  celery: CeleryAnswer[];
  dbbeat: DbbeatAnswer[];
  /** Ephem's check of dbbeat's runs, for the solar cases where the two disagree. */
  checks: Map<number, SolarCheck>;
}

let run: Promise<Run> | undefined;

/** One fuzz run shared by the tests below: Celery asked once, in one Python process. */
function fuzzRun(): Promise<Run> {
  run ??= (async () => {
    const cases = randomCases(SEED, CASES);
    const celery = await askCelery(cases);
    const dbbeat = cases.map(askDbbeat);
    const toCheck = cases.flatMap((testCase, index) => {
      const runs = solarRunsToCheck(testCase, celery[index]!, dbbeat[index]!);
      return runs === null ? [] : [{ index, schedule: testCase.schedule, runs }];
    });
    const answers = await checkSolarRuns(toCheck);
    const checks = new Map(toCheck.map(({ index }, position) => [index, answers[position]!]));
    return { cases, celery, dbbeat, checks };
  })();
  return run;
}

function runBatch(input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'next', '--batch'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stderr}`))));
    child.stdin.end(input);
  });
}

test(`dbbeat's engine agrees with the live Celery on ${CASES} random cases (seed ${SEED})`, async (t) => {
  console.log(`differential fuzz: seed ${SEED} (DBBEAT_FUZZ_SEED), ${CASES} cases (DBBEAT_FUZZ_CASES)`);
  const { cases, celery, dbbeat, checks } = await fuzzRun();
  const tally = new Map<string, number>();
  const failures: string[] = [];
  cases.forEach((testCase, index) => {
    const verdict = judge(testCase, celery[index]!, dbbeat[index]!, checks.get(index));
    const key = verdict.kind === 'documented' ? `documented: ${verdict.why}` : verdict.kind;
    tally.set(key, (tally.get(key) ?? 0) + 1);
    if (verdict.kind === 'bug') {
      failures.push(
        `seed ${SEED} case ${index}: ${verdict.why}\n  replay: echo '${JSON.stringify(testCase)}' | ` +
          `/usr/bin/python3 test/schedules/celery_reference.py  (and | bin/dbbeat.js next --batch)`,
      );
    }
  });
  const summary = [...tally].map(([key, count]) => `${count} ${key}`).join('; ');
  t.diagnostic(summary);
  console.log(`differential fuzz: ${summary}`);
  for (const failure of failures) console.log(failure);
  assert.deepEqual(failures, []);
  // A fuzzer that compared nothing would pass: most cases must be real agreements.
  assert.ok((tally.get('agree') ?? 0) >= CASES * 0.7, summary);
});

test('the fuzz cases cover every kind, rejections and polar days; few are cut at DST', async () => {
  const { cases, celery } = await fuzzRun();
  const kinds = new Set(cases.map((testCase) => Object.keys(testCase.schedule)[0]));
  assert.deepEqual([...kinds].sort(), ['clocked', 'crontab', 'interval', 'solar']);
  const notes = celery.flatMap((answer) => ('notes' in answer ? answer.notes : []));
  const errors = celery.filter((answer) => 'error' in answer).length;
  assert.ok(errors >= CASES * 0.03, `${errors} rejected cases`);
  assert.ok(
    notes.some((note) => note.startsWith('circumpolar')),
    'no polar day or night',
  );
  // DST instants are left out, but only a few: most crontab runs in DST zones are compared.
  const dst = notes.filter((note) => note.startsWith('dst@')).length;
  assert.ok(dst < CASES * 0.05, `${dst} cases cut at a DST change`);
});

test('`dbbeat next --batch` answers the fuzz cases exactly as the engine does', async () => {
  const { cases, dbbeat } = await fuzzRun();
  const input = cases.map((testCase) => JSON.stringify(testCase)).join('\n');
  const lines = (await runBatch(`${input}\n`)).trimEnd().split('\n');
  assert.equal(lines.length, cases.length);
  lines.forEach((line, index) => {
    const answer = JSON.parse(line) as { next?: string[]; error?: string };
    const engine = dbbeat[index]!;
    const where = `seed ${SEED} case ${index}: ${JSON.stringify(cases[index])}`;
    if ('error' in engine) assert.equal(answer.error, engine.error, where);
    else assert.deepEqual(answer, { next: engine.next }, where);
  });
});
