// The oldest servers dbbeat runs on: JSON_TABLE, window functions, CHECK constraints and
// several triggers per table and event all arrived in MySQL 8.0 and MariaDB 10.6.

/** A server older than MySQL 8.0 or MariaDB 10.6. */
export class UnsupportedServerVersionError extends Error {
  constructor(
    readonly version: string,
    readonly where: string,
  ) {
    super(
      `${where} runs ${version}, which dbbeat does not support: it needs MySQL 8.0 or later, or MariaDB 10.6 or later`,
    );
    this.name = 'UnsupportedServerVersionError';
  }
}

/**
 * Throws {@link UnsupportedServerVersionError} unless `version` (what `SELECT VERSION()`
 * answers: `8.0.36`, `10.11.6-MariaDB-0+deb12u1`) is MySQL 8.0+ or MariaDB 10.6+.
 */
export function assertSupportedServer(version: string, where: string): void {
  const match = /^(\d+)\.(\d+)/.exec(version);
  const major = Number(match?.[1] ?? 0);
  const minor = Number(match?.[2] ?? 0);
  const mariadb = /mariadb/i.test(version);
  const name = mariadb ? `MariaDB ${version}` : `MySQL ${version}`;
  const supported = mariadb ? major > 10 || (major === 10 && minor >= 6) : major >= 8;
  if (!supported) throw new UnsupportedServerVersionError(name, where);
}
