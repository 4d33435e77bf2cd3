// Configuration for MySQL/MariaDB: the URL kinds accepted, the naive-time zone option,
// and the one-line errors (exit code 2 from the CLI) for what is not supported.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { OptionsError, resolveConfig } from '../../src/config.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/dbbeat.js', import.meta.url));

test('mysql:// and mariadb:// URLs are accepted; --db-timezone defaults to UTC, then DBBEAT_DB_TIMEZONE, then the flag', () => {
  assert.equal(resolveConfig({ databaseUrl: 'mysql://root@127.0.0.1/x' }, {}).dbTimeZone, 'UTC');
  assert.equal(
    resolveConfig({ databaseUrl: 'mariadb://root@127.0.0.1/x' }, { DBBEAT_DB_TIMEZONE: 'Asia/Shanghai' }).dbTimeZone,
    'Asia/Shanghai',
  );
  assert.equal(
    resolveConfig({ dbTimeZone: 'Europe/Berlin' }, { DBBEAT_DB_TIMEZONE: 'Asia/Shanghai' }).dbTimeZone,
    'Europe/Berlin',
  );
  assert.throws(
    () => resolveConfig({ dbTimeZone: 'Mars/Base' }, {}),
    (error: unknown) => error instanceof OptionsError && /db-timezone: "Mars\/Base"/.test(error.message),
  );
});

for (const command of ['beat', 'migrate']) {
  test(`dbbeat ${command} with an unsupported URL kind exits 2 with one line naming the supported kinds`, async () => {
    const failure = await run(process.execPath, [bin, command, '--database-url', 'sqlserver://sa:hunter2@db/x'], {
      timeout: 60_000,
    }).then(
      () => assert.fail('expected a failure'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failure.code, 2);
    assert.equal(
      failure.stderr,
      `dbbeat ${command}: database-url: "sqlserver://sa:***@db/x" is not a supported kind; use postgres://, postgresql://, mysql:// or mariadb:// (or none, for the embedded database)\n`,
    );
  });
}

test("dbbeat next's database-free forms work whatever DATABASE_URL holds (mysql:// or an unknown kind)", async () => {
  for (const url of ['mysql://root@127.0.0.1:3306/x', 'sqlite:///x.db']) {
    const { stdout } = await run(
      process.execPath,
      [bin, 'next', '--crontab', '0 9 * * *', '--tz', 'Asia/Tokyo', '--after', '2026-12-01T00:00:00Z', '-n', '1'],
      {
        env: { ...process.env, DATABASE_URL: url },
        timeout: 60_000,
      },
    );
    assert.match(stdout, /2026-12-02T00:00:00Z/);
  }
});
