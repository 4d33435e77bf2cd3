// The web page's files, built by `npm run build:web` (scripts/build-web.mjs, run by
// `npm ci` / `npm install` through `prepare`) into web/dist of the package, and served
// from there: no CDN, so the page works offline.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** The package's root: the nearest folder above this module with dbbeat's package.json. */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'dbbeat')
      return dir;
    if (dirname(dir) === dir) throw new Error(`dbbeat's package.json was not found above ${from}`);
  }
}

/** The built page's folder (web/dist in the package). */
export function webAssetsDir(): string {
  return join(packageRoot(), 'web', 'dist');
}

/** Serves GET / (index.html), GET /assets/<file> and GET /favicon.ico from the built page, read once at start. */
export function registerWebPage(app: FastifyInstance): void {
  const dir = webAssetsDir();
  const files = new Map<string, { body: Buffer; type: string }>();
  const load = (name: string) => {
    const path = join(dir, name);
    if (!existsSync(path)) return;
    const extension = name.slice(name.lastIndexOf('.'));
    files.set(name, { body: readFileSync(path), type: TYPES[extension] ?? 'application/octet-stream' });
  };
  for (const name of ['index.html', 'app.js', 'app.css', 'favicon.svg']) load(name);

  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    const page = files.get('index.html');
    if (page === undefined) {
      return reply
        .code(503)
        .type('text/plain')
        .send(`the web page has not been built (${dir} is missing): run npm run build:web`);
    }
    return reply.type(page.type).header('Cache-Control', 'no-cache').send(page.body);
  });
  // Browsers (and tools that ignore the page's <link rel="icon">) ask for /favicon.ico: the
  // same icon, so nobody's console logs a 404 for it; 204 when the page was not built.
  app.get('/favicon.ico', { schema: { hide: true } }, async (_request, reply) => {
    const icon = files.get('favicon.svg');
    if (icon === undefined) return reply.code(204).send();
    return reply.type(icon.type).header('Cache-Control', 'max-age=86400').send(icon.body);
  });
  app.get('/assets/:file', { schema: { hide: true } }, async (request, reply) => {
    const file = files.get((request.params as { file: string }).file);
    if (file === undefined) return reply.code(404).type('text/plain').send('not found');
    return reply.type(file.type).header('Cache-Control', 'no-cache').send(file.body);
  });
}
