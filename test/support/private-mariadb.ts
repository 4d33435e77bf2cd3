// A mariadbd of the test's own (its own data folder, port and socket), that a test may
// crash (SIGKILL) and start again: never the shared server on 3306. InnoDB's redo log is
// flushed at every commit (the default), so a crash loses nothing that was committed.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import mariadb from 'mariadb';

import { freePort } from './private-redis.js';

const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

export class PrivateMariaDb {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'dbbeat-mariadb-'));

  private constructor(readonly port: number) {}

  /** Initialises a data folder, starts mariadbd on a free port, and creates database `name`. */
  static async start(name: string): Promise<PrivateMariaDb> {
    const server = new PrivateMariaDb(await freePort());
    execFileSync(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${join(server.dir, 'data')}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--user=root',
      ],
      { stdio: 'ignore', timeout: 120_000 },
    );
    await server.restart();
    const connection = await mariadb.createConnection({ host: '127.0.0.1', port: server.port, user: 'root' });
    try {
      await connection.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    } finally {
      await connection.end();
    }
    return server;
  }

  /** mysql://root@127.0.0.1:<port>/<name> */
  url(name: string): string {
    return `mysql://root@127.0.0.1:${this.port}/${name}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the server (again) on the same port and data folder; resolves when it answers. */
  async restart(): Promise<void> {
    if (this.running) throw new Error(`private mariadbd on ${this.port} is already running`);
    this.child = spawn(
      'mariadbd',
      [
        '--no-defaults',
        `--datadir=${join(this.dir, 'data')}`,
        `--socket=${join(this.dir, 'mariadb.sock')}`,
        `--pid-file=${join(this.dir, 'mariadb.pid')}`,
        '--bind-address=127.0.0.1',
        `--port=${this.port}`,
        '--user=root',
        '--innodb-buffer-pool-size=64M',
        '--skip-log-bin',
      ],
      { stdio: 'ignore' },
    );
    const child = this.child;
    started.add(child);
    child.once('exit', () => started.delete(child));
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const connection = await mariadb.createConnection({
          host: '127.0.0.1',
          port: this.port,
          user: 'root',
          connectTimeout: 1000,
        });
        await connection.end();
        return;
      } catch {
        if (!this.running) throw new Error(`private mariadbd on port ${this.port} exited at start`);
        if (Date.now() > deadline) throw new Error(`private mariadbd on port ${this.port} did not answer within 60 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Kills the server like a crash (SIGKILL) and waits until it is gone. */
  async crash(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }

  /** Stops the server and removes its data folder. */
  async stop(): Promise<void> {
    await this.crash();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
