// Keeps the README's SQL true: every ```sql block of README.md is marked with the dialect it
// is for (`<!-- readme-sql: postgres -->` or `<!-- readme-sql: mysql -->`), and each runs
// literally, through the command-line client a reader would use (psql, mariadb), on a fresh
// migrated database of that dialect; the task it adds is then read by `dbbeat tasks show`
// as a valid task with a next run.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { runDbbeat } from '../support/cli.js';
import { testDialects, withDialectDatabase } from '../support/dialects.js';

const readme = await readFile(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

interface SqlBlock {
  dialect: string;
  sql: string;
  line: number;
}

/** The README's ```sql blocks with the dialect marked above each (undefined: unmarked). */
function sqlBlocks(text: string): (SqlBlock | { dialect: undefined; line: number })[] {
  const lines = text.split('\n');
  const blocks: (SqlBlock | { dialect: undefined; line: number })[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const fence = /^(\s*)```sql\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const indent = fence[1]!.length;
    const marker = /<!-- readme-sql: (\w+) -->/.exec(lines[i - 1] ?? '');
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j += 1) body.push(lines[j]!.slice(indent));
    blocks.push(
      marker ? { dialect: marker[1]!, sql: body.join('\n') + '\n', line: i + 1 } : { dialect: undefined, line: i + 1 },
    );
    i = j;
  }
  return blocks;
}

/** Runs `sql` through a command-line client, as a reader pastes it; rejects with its stderr. */
function client(file: string, args: string[], sql: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: 60_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${file} failed: ${stderr || error.message}`)) : resolve(stdout),
    );
    child.stdin!.end(sql);
  });
}

function runSql(dialect: string, url: string, sql: string): Promise<string> {
  if (dialect === 'postgres') return client('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-q', url], sql);
  const parsed = new URL(url);
  return client(
    'mariadb',
    [
      `--host=${parsed.hostname}`,
      `--port=${parsed.port || '3306'}`,
      `--user=${decodeURIComponent(parsed.username)}`,
      ...(parsed.password === '' ? [] : [`--password=${decodeURIComponent(parsed.password)}`]),
      parsed.pathname.slice(1),
    ],
    sql,
  );
}

const blocks = sqlBlocks(readme);

test('every SQL block of the README names its dialect, and each dialect has one', () => {
  assert.ok(blocks.length > 0, 'README.md has SQL blocks');
  for (const block of blocks) {
    assert.ok(block.dialect !== undefined, `README.md line ${block.line}: a sql block without <!-- readme-sql: … -->`);
    assert.ok(['postgres', 'mysql'].includes(block.dialect), `README.md line ${block.line}: dialect ${block.dialect}`);
  }
  assert.deepEqual([...new Set(blocks.map((b) => b.dialect))].sort(), ['mysql', 'postgres']);
});

for (const dialect of testDialects) {
  describe(`the README's SQL on ${dialect.name}`, () => {
    const database = withDialectDatabase(dialect, 'dbbeat_readme');
    for (const block of blocks.filter((b): b is SqlBlock => b.dialect === dialect.name)) {
      test(`README.md line ${block.line} runs as written and adds a valid task`, async () => {
        await dialect.reset(database.db);
        await runSql(dialect.name, database.url, block.sql);
        const names = await dialect.query<{ name: string }>(
          database.db,
          'SELECT name FROM django_celery_beat_periodictask',
        );
        assert.ok(names.length > 0, 'the block adds a task');
        for (const { name } of names) {
          const shown = await runDbbeat(['tasks', 'show', name, '--database-url', database.url], { DATABASE_URL: '' });
          assert.equal(shown.code, 0, shown.stderr);
          assert.match(shown.stdout, /^valid\s+yes$/m, shown.stdout);
          assert.match(shown.stdout, /^next run\s+\d{4}-\d\d-\d\d/m, shown.stdout);
        }
      });
    }
  });
}
