import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { defaultMigrationsDirectory, migrate, MigrationChecksumError } from '../../src/db/migrate.js';
import { openDatabase } from '../../src/db/open.js';
import { backends, type TestDatabase } from './backends.js';

const run = promisify(execFile);
const dbbeatBin = fileURLToPath(new URL('../../bin/dbbeat.js', import.meta.url));

// Every file of dbbeat's migrations folder, in order (the first three are this test's own concern).
const expectedFiles = (await readdir(defaultMigrationsDirectory)).filter((name) => name.endsWith('.sql')).sort();
assert.deepEqual(expectedFiles.slice(0, 3), [
  '0001_django_celery_beat_tables.sql',
  '0002_dbbeat_tables.sql',
  '0003_change_triggers.sql',
]);

for (const backend of backends) {
  describe(`migrate on ${backend.name}`, () => {
    let target: TestDatabase;
    let copyDirectory: string;

    // One migrated database for the file, and a fresh copy of the migrations folder per
    // test: each test's extra files have names of their own, and files applied by another
    // test but missing from this copy are tolerated, so no test depends on another's.
    before(async () => {
      target = await backend.create();
      await migrate(target.db);
    });
    after(async () => {
      await target?.cleanup();
    });
    beforeEach(async () => {
      copyDirectory = await mkdtemp(join(tmpdir(), 'dbbeat-migrations-'));
      await cp(defaultMigrationsDirectory, copyDirectory, { recursive: true });
    });
    afterEach(async () => {
      await rm(copyDirectory, { recursive: true, force: true });
    });

    test('applies every file in order on an empty database and records checksums', async () => {
      const empty = await backend.create();
      try {
        const logged: string[] = [];
        const result = await migrate(empty.db, { directory: copyDirectory, log: (line) => logged.push(line) });
        assert.deepEqual(result.applied, expectedFiles);
        assert.deepEqual(
          logged,
          expectedFiles.map((name) => `applied ${name}`),
        );
        const history = await empty.db.query<{ name: string; checksum: string }>(
          'SELECT name, checksum FROM dbbeat_migrations ORDER BY name',
        );
        assert.deepEqual(
          history.map((row) => row.name),
          expectedFiles,
        );
        for (const row of history) assert.match(row.checksum, /^[0-9a-f]{64}$/);
        const [marker] = await empty.db.query<{ ident: number }>('SELECT ident FROM django_celery_beat_periodictasks');
        assert.equal(marker?.ident, 1);
      } finally {
        await empty.cleanup();
      }
    });

    test('a second run applies nothing', async () => {
      assert.deepEqual(await migrate(target.db, { directory: copyDirectory }), {
        applied: [],
        repaired: [],
        missing: [],
      });
    });

    test('a later file is applied on the next run, after the earlier ones', async () => {
      await writeFile(join(copyDirectory, '9004_extra.sql'), 'CREATE TABLE dbbeat_test_extra (id int);');
      assert.deepEqual((await migrate(target.db, { directory: copyDirectory })).applied, ['9004_extra.sql']);
      await target.db.query('SELECT id FROM dbbeat_test_extra');
    });

    test('a failing file is rolled back whole and not recorded', async () => {
      await writeFile(
        join(copyDirectory, '9005_broken.sql'),
        'CREATE TABLE dbbeat_test_half (id int); SELECT no_such_function();',
      );
      await assert.rejects(migrate(target.db, { directory: copyDirectory }), (error: Error) => {
        assert.equal(error.name, 'MigrationFailedError');
        assert.match(error.message, /9005_broken\.sql/);
        return true;
      });
      const tables = await target.db.query("SELECT 1 FROM pg_tables WHERE tablename = 'dbbeat_test_half'");
      assert.equal(tables.length, 0);
      await rm(join(copyDirectory, '9005_broken.sql'));
    });

    test('a checkout with CRLF line ends is not an edit', async () => {
      const path = join(copyDirectory, '0001_django_celery_beat_tables.sql');
      const original = await readFile(path, 'utf8');
      await writeFile(path, original.replace(/\n/g, '\r\n'));
      assert.deepEqual(await migrate(target.db, { directory: copyDirectory }), {
        applied: [],
        repaired: [],
        missing: [],
      });
      await writeFile(path, original);
    });

    test('an applied file edited afterwards is refused, naming the file', async () => {
      await appendFile(join(copyDirectory, '0002_dbbeat_tables.sql'), '\n-- edited\n');
      await writeFile(join(copyDirectory, '9006_after_edit.sql'), 'CREATE TABLE dbbeat_test_after (id int);');
      await assert.rejects(migrate(target.db, { directory: copyDirectory }), (error: unknown) => {
        assert.ok(error instanceof MigrationChecksumError);
        assert.equal(error.fileName, '0002_dbbeat_tables.sql');
        assert.match(error.message, /0002_dbbeat_tables\.sql/);
        return true;
      });
      // Nothing after the edited file was applied.
      const tables = await target.db.query("SELECT 1 FROM pg_tables WHERE tablename = 'dbbeat_test_after'");
      assert.equal(tables.length, 0);
    });
  });
}

describe('concurrent migrators', () => {
  test('on PostgreSQL, two pools migrating at once both succeed and each file is applied once', async () => {
    const target = await backends[0]!.create();
    const second = await openDatabase({ databaseUrl: target.url!, poolSize: 2 });
    try {
      const [first, other] = await Promise.all([migrate(target.db), migrate(second)]);
      assert.deepEqual([...first.applied, ...other.applied].sort(), expectedFiles);
      const history = await target.db.query<{ n: number }>('SELECT count(*)::int AS n FROM dbbeat_migrations');
      assert.equal(history[0]?.n, expectedFiles.length);
    } finally {
      await second.close();
      await target.cleanup();
    }
  });

  test('on PostgreSQL, two `dbbeat migrate` processes at once both succeed and each file is applied once', async () => {
    const target = await backends[0]!.create();
    try {
      const migrateCommand = () =>
        run(process.execPath, [dbbeatBin, 'migrate', '--database-url', target.url!], { timeout: 60_000 });
      const outputs = await Promise.all([migrateCommand(), migrateCommand()]);
      const appliedLines = outputs.flatMap(({ stdout }) =>
        stdout.split('\n').filter((line) => line.startsWith('applied ')),
      );
      assert.deepEqual(appliedLines.map((line) => line.slice('applied '.length)).sort(), expectedFiles);
      const history = await target.db.query<{ n: number }>('SELECT count(*)::int AS n FROM dbbeat_migrations');
      assert.equal(history[0]?.n, expectedFiles.length);
    } finally {
      await target.cleanup();
    }
  });

  test('on PGlite, two calls at once both succeed and each file is applied once', async () => {
    const target = await backends[1]!.create();
    try {
      const [first, other] = await Promise.all([migrate(target.db), migrate(target.db)]);
      assert.deepEqual([...first.applied, ...other.applied].sort(), expectedFiles);
    } finally {
      await target.cleanup();
    }
  });
});
