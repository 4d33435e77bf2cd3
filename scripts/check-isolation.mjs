#!/usr/bin/env node
// Checks that tests do not depend on the order they run in: runs every test of the given
// files alone (--test-name-pattern with its exact name; the hooks of its suites still
// run) and lists the tests that fail alone although they pass in their file.
//
//   node scripts/check-isolation.mjs [--jobs N] test/beat/run-rules.test.ts ...
//
// Slow on the beat and fault files (one process, one beat, per test): run it on the
// files you changed, not as part of npm test.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const reporter = fileURLToPath(new URL('./test-names-reporter.mjs', import.meta.url));
const args = process.argv.slice(2);
let jobs = 2;
const files = [];
for (let index = 0; index < args.length; index += 1) {
  if (args[index] === '--jobs') jobs = Number(args[(index += 1)]);
  else files.push(args[index]);
}
if (files.length === 0) {
  console.error('usage: node scripts/check-isolation.mjs [--jobs N] FILE...');
  process.exit(2);
}

/** Runs node's test runner on `file`; resolves with the tests it reported ({name, type, ok}). */
function run(file, pattern) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        `--test-reporter=${reporter}`,
        ...(pattern ? [`--test-name-pattern=${pattern}`] : []),
        file,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.once('close', () => {
      try {
        process.kill(-child.pid, 'SIGKILL'); // whatever the file left running
      } catch {
        // gone
      }
      resolve(
        output
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line)),
      );
    });
  });
}

const escape = (name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const failures = [];
let checked = 0;
for (const file of files) {
  const all = (await run(file)).filter((test) => test.type !== 'suite');
  const passing = all.filter((test) => test.ok).map((test) => test.name);
  if (passing.length < all.length)
    console.log(`${file}: ${all.length - passing.length} test(s) fail in the file itself; checking the others`);
  const queue = [...new Set(passing)];
  await Promise.all(
    Array.from({ length: Math.min(jobs, queue.length) }, async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        const alone = (await run(file, `^${escape(name)}$`)).filter(
          (test) => test.type !== 'suite' && test.name === name,
        );
        checked += 1;
        if (alone.length === 0 || alone.some((test) => !test.ok)) {
          failures.push(`${file}: "${name}"`);
          console.log(`FAILS ALONE  ${file}: ${name}`);
        } else {
          console.log(`ok alone     ${file}: ${name}`);
        }
      }
    }),
  );
}
console.log(`check-isolation: ${checked - failures.length} of ${checked} tests pass alone`);
process.exit(failures.length > 0 ? 1 : 0);
