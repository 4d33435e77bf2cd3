// Reads the conformance file (cases computed by Celery 5.2.6, see its README)
// and turns its rows into ScheduleSpecs, shared by the engine and CLI tests.

import { readFileSync } from 'node:fs';

export interface ConformanceCase {
  line: number;
  schedule: Record<string, Record<string, unknown>>;
  after: string;
  count: number;
  celery: { next: string[] } | { error: string };
}

/** The cases of test/fixtures/celery-schedules.jsonl. */
export function readConformanceCases(): ConformanceCase[] {
  const url = new URL('../fixtures/celery-schedules.jsonl', import.meta.url);
  return readFileSync(url, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => ({ line: index + 1, ...(JSON.parse(line) as Omit<ConformanceCase, 'line'>) }));
}

/** The schedule kind of a case: the one key of `schedule`. */
export function caseKind(testCase: ConformanceCase): string {
  return Object.keys(testCase.schedule)[0]!;
}
