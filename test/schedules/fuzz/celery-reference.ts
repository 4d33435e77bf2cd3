// Asks the real Celery 5.2 / django-celery-beat (test/schedules/celery_reference.py,
// through Debian's /usr/bin/python3) for the next runs of many cases in one process.

import { spawn } from 'node:child_process';

import type { SolarCheck } from './compare.js';
import type { FuzzCase } from './random-cases.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('../celery_reference.py', import.meta.url).pathname;

/** Celery's answer to one case (see celery_reference.py for the notes). */
export type CeleryAnswer = { next: string[]; notes: string[] } | { error: string };

/**
 * Celery's answers to `cases`, one per case, in order.
 *
 * @throws Error when the Python process fails or answers a different number of lines.
 */
export function askCelery(cases: readonly FuzzCase[]): Promise<CeleryAnswer[]> {
  return askPython<CeleryAnswer>(cases);
}

/** Ephem's sun altitude at each of `runs` of a solar schedule (see celery_reference.py's check_crossings). */
export async function checkSolarRuns(
  requests: readonly { schedule: FuzzCase['schedule']; runs: string[] }[],
): Promise<SolarCheck[]> {
  return askPython<SolarCheck>(requests.map(({ schedule, runs }) => ({ check: schedule['solar'], at: runs })));
}

function askPython<T>(lines: readonly object[], timeoutMs = 240_000): Promise<T[]> {
  if (lines.length === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    // No __pycache__ written into the source tree (celery_reference.py imports celery_solar.py).
    const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };
    const child = spawn(PYTHON, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const answers = stdout.split('\n').filter((line) => line !== '');
      if (code !== 0 || answers.length !== lines.length) {
        reject(
          new Error(`celery_reference.py exited ${code} with ${answers.length}/${lines.length} answers: ${stderr}`),
        );
        return;
      }
      resolve(answers.map((line) => JSON.parse(line) as T));
    });
    child.stdin.end(lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
  });
}
