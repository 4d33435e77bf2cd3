// Every case of the conformance file, computed by Celery 5.2.6, through the
// engine: crontab and interval identical, solar within 10 s, errors where Celery
// has errors.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { buildSchedule } from '../../src/schedules/index.js';
import { formatInstant, specFromJson } from '../../src/schedules/json-form.js';
import { type ConformanceCase, caseKind, readConformanceCases } from './conformance-cases.js';

const SOLAR_TOLERANCE_MS = 10_000;

/** Null when the engine agrees with Celery, else what differs. */
function disagreement(testCase: ConformanceCase): string | null {
  let runs: string[];
  try {
    const schedule = buildSchedule(specFromJson(testCase.schedule));
    runs = [];
    let last: Date | null = new Date(testCase.after);
    for (let index = 0; index < testCase.count && last !== null; index++) {
      last = schedule.nextAfter(last);
      if (last !== null) runs.push(formatInstant(last));
    }
  } catch (error) {
    if ('error' in testCase.celery) return null;
    return `threw ${String(error)}`;
  }
  if ('error' in testCase.celery)
    return `accepted what Celery rejects (${testCase.celery.error}); gave ${runs.join(', ')}`;
  const expected = testCase.celery.next;
  if (caseKind(testCase) === 'solar') {
    const close =
      runs.length === expected.length &&
      runs.every((run, index) => Math.abs(Date.parse(run) - Date.parse(expected[index]!)) <= SOLAR_TOLERANCE_MS);
    return close ? null : `gave ${runs.join(', ')}; Celery ${expected.join(', ')}`;
  }
  return runs.join(',') === expected.join(',') ? null : `gave ${runs.join(', ')}; Celery ${expected.join(', ')}`;
}

test('the engine agrees with Celery 5.2.6 on every conformance case', (t) => {
  const cases = readConformanceCases();
  const tally = new Map<string, { agree: number; total: number }>();
  const failures: string[] = [];
  for (const testCase of cases) {
    const kind = caseKind(testCase);
    const counts = tally.get(kind) ?? { agree: 0, total: 0 };
    tally.set(kind, counts);
    counts.total++;
    const problem = disagreement(testCase);
    if (problem === null) counts.agree++;
    else
      failures.push(`line ${testCase.line} ${JSON.stringify(testCase.schedule)} after ${testCase.after}: ${problem}`);
  }
  const agree = [...tally.values()].reduce((sum, counts) => sum + counts.agree, 0);
  const parts = [...tally].map(([kind, counts]) => `${kind} ${counts.agree}/${counts.total}`);
  const summary = `conformance: ${agree}/${cases.length} cases agree (${parts.join(', ')})`;
  t.diagnostic(summary);
  console.log(summary);
  assert.deepEqual(failures, []);
});
