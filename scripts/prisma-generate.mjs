#!/usr/bin/env node
// Runs `prisma generate` without network access.
//
// Prisma's CLI wants its native schema engine even for `generate`, and downloads it
// when it is missing; these machines cannot download it. `generate` never calls the
// engine, so we point PRISMA_SCHEMA_ENGINE_BINARY at a stub that exits with an error
// should anything ever try. Migrations are our own SQL files (migrations/), so the
// real engine is never needed.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stubDir = join(root, 'node_modules', '.cache', 'dbbeat');
const stub = join(stubDir, 'schema-engine-stub');

if (!existsSync(stub)) {
  mkdirSync(stubDir, { recursive: true });
  writeFileSync(
    stub,
    '#!/bin/sh\necho "dbbeat: the Prisma schema engine is not available; use dbbeat migrate" >&2\nexit 1\n',
  );
  chmodSync(stub, 0o755);
}

const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? stub,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
};
const prismaCli = join(root, 'node_modules', 'prisma', 'build', 'index.js');
// One client per provider (a Prisma schema names one): PostgreSQL and PGlite, then MySQL/MariaDB.
for (const schema of ['prisma/schema.prisma', 'prisma/mysql/schema.prisma']) {
  const result = spawnSync(process.execPath, [prismaCli, 'generate', '--schema', schema], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
