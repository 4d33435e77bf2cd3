// A redis-server of the test's own, on a free local port, so no test shares a Redis with
// another (or with anyone else on the machine). A test may crash it (SIGKILL) and start it
// again on the same port. Started `durable`, its append-only file is fsynced on every
// write, so a crash loses nothing Redis acknowledged; otherwise it keeps nothing on disk
// (an fsync per write slows every publish on a busy machine).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

import { Redis } from 'ioredis';

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Servers started by this test process, killed when it exits (also on failure). */
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

export class PrivateRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'dbbeat-redis-'));

  private constructor(
    readonly port: number,
    private readonly durable: boolean,
  ) {}

  /** Starts a redis-server on a free port and waits until it answers. */
  static async start(options: { durable?: boolean } = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), options.durable ?? false);
    await redis.restart();
    return redis;
  }

  /** redis://127.0.0.1:<port>/<db> */
  url(db = 0): string {
    return `redis://127.0.0.1:${this.port}/${db}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the server (again) on the same port and data folder; resolves when it answers PING. */
  async restart(): Promise<void> {
    if (this.running) throw new Error(`private redis on ${this.port} is already running`);
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--dir',
        this.dir,
        ...(this.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
      ],
      { stdio: 'ignore' },
    );
    const child = this.child;
    started.add(child);
    child.once('exit', () => started.delete(child));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const client = new Redis({
        port: this.port,
        host: '127.0.0.1',
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        if ((await client.ping()) === 'PONG') return;
      } catch {
        if (Date.now() > deadline)
          throw new Error(`private redis-server on port ${this.port} did not answer within 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        client.disconnect();
      }
    }
  }

  /** Kills the server like a crash (SIGKILL) and waits until it is gone. */
  async crash(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Kills the server and removes its data folder. */
  async remove(): Promise<void> {
    await this.crash();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Registers a `before` hook that starts a private redis-server and an `after` hook that
 * removes it, in the calling describe block (or file). Call the function it returns in
 * tests and later hooks to get the server.
 */
export function withPrivateRedis(options: { durable?: boolean } = {}): () => PrivateRedis {
  let redis: PrivateRedis | undefined;
  before(async () => {
    redis = await PrivateRedis.start(options);
  });
  after(async () => {
    await redis?.remove();
  });
  return () => {
    if (redis === undefined) throw new Error('withPrivateRedis: read before its before hook ran');
    return redis;
  };
}
