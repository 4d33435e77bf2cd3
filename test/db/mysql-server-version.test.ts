// Servers older than MySQL 8.0 / MariaDB 10.6 are refused with their version named.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { permanentFailure } from '../../src/beat/failures.js';
import { assertSupportedServer, UnsupportedServerVersionError } from '../../src/db/mysql/server-version.js';

test('MySQL 8.0+ and MariaDB 10.6+ pass; older ones are refused, naming the version', () => {
  for (const version of [
    '8.0.36',
    '8.4.3',
    '9.1.0',
    '10.6.21-MariaDB',
    '10.11.19-MariaDB-0+deb12u1',
    '11.4.2-MariaDB-log',
  ]) {
    assert.doesNotThrow(() => assertSupportedServer(version, 'mysql://root@db/x'), version);
  }
  for (const [version, named] of [
    ['5.7.44', 'MySQL 5.7.44'],
    ['10.5.27-MariaDB', 'MariaDB 10.5.27-MariaDB'],
    ['10.3.39-MariaDB-0+deb10u1', 'MariaDB 10.3.39-MariaDB-0+deb10u1'],
  ] as const) {
    assert.throws(
      () => assertSupportedServer(version, 'mysql://root@db/x'),
      (error: unknown) =>
        error instanceof UnsupportedServerVersionError &&
        error.message ===
          `mysql://root@db/x runs ${named}, which dbbeat does not support: it needs MySQL 8.0 or later, or MariaDB 10.6 or later`,
    );
  }
});

test('a refused server version is a permanent failure: the command exits 2 with one line naming it', () => {
  const refused = new UnsupportedServerVersionError('MySQL 5.7.44', 'mysql://root@db:3306/x');
  const failure = permanentFailure(refused, 'database', 'mysql://root@db:3306/x');
  assert.equal(
    failure?.message,
    'database-url: mysql://root@db:3306/x runs MySQL 5.7.44, which dbbeat does not support: it needs MySQL 8.0 or later, or MariaDB 10.6 or later',
  );
  assert.ok(!failure.message.includes('\n'));
});
