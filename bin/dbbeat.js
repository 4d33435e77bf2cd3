#!/usr/bin/env -S node --max-semi-space-size=32
// (A young generation of 2 × 32 MiB, not V8's 2 × 16: a batch's messages, records and
// history rows live for a database round trip, and with the smaller one they were copied
// into the old generation and collected there, at 17 % of a 1M burst's time. A 1M burst
// took 34.0 s with it against 38.7 s without, peak RSS 914 MiB against 810; run through
// `node bin/dbbeat.js`, the flag is not given and V8's default holds.)
// The `dbbeat` command: runs the built JavaScript in dist/ (an installed package has
// nothing else). In a git clone, `npm ci` builds dist/ (the `prepare` script); when a
// source file has changed since the last build, the sources run through tsx instead,
// so tests and a quick try see the edit without `npm run build`.
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const built = new URL('dist/cli/main.js', root);
const sources = new URL('src/', root);

/** Newest modification time (ms) of any file under a folder. */
function newest(folder) {
  let latest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs);
  }
  return latest;
}

const clone = existsSync(new URL('cli/main.ts', sources));
if (clone && (!existsSync(built) || newest(sources) > statSync(built).mtimeMs)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('cli/main.ts', sources).href);
} else {
  await import(built.href);
}
