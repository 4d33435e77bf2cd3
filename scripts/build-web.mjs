#!/usr/bin/env node
// Builds the console's web page (web/src, Preact) into web/dist: one JavaScript
// bundle, one stylesheet, index.html and the icon, served by the console from the package.
// Runs on `npm install` / `npm ci` (prepare) and with `npm run build:web`.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'web', 'dist');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'web', 'src', 'main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outfile: join(out, 'app.js'),
  legalComments: 'none',
  logLevel: 'warning',
});
await build({
  entryPoints: [join(root, 'web', 'src', 'app.css')],
  bundle: true,
  minify: true,
  outfile: join(out, 'app.css'),
  logLevel: 'warning',
});
copyFileSync(join(root, 'web', 'index.html'), join(out, 'index.html'));
copyFileSync(join(root, 'web', 'favicon.svg'), join(out, 'favicon.svg'));
console.log(`build-web: wrote ${out}`);
