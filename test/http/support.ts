// A console on a fresh PostgreSQL database and a private Redis, for the HTTP tests.
import { Writable } from 'node:stream';

import pino from 'pino';

import { connectBroker } from '../../src/broker/index.js';
import type { Broker } from '../../src/broker/types.js';
import type { HttpAuth } from '../../src/http/auth.js';
import { type ConsoleContext, type ConsoleServerOptions, buildConsoleServer } from '../../src/http/server.js';
import { migrate } from '../../src/db/migrate.js';
import { type OpenDatabase, openDatabase } from '../../src/db/open.js';
import { type TempDatabase, createTempDatabase } from '../support/postgres.js';
import { PrivateRedis } from '../support/private-redis.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const USER = 'alice';
export const PASSWORD = 'wonderland-secret-pass';

/** Token and one basic-auth user. */
export function testAuth(): HttpAuth {
  return { token: TOKEN, users: new Map([[USER, PASSWORD]]), required: true };
}

export interface TestConsole {
  app: Awaited<ReturnType<typeof buildConsoleServer>>['app'];
  context: ConsoleContext;
  db: OpenDatabase;
  temp: TempDatabase;
  redis: PrivateRedis;
  broker: Broker;
  /** Every log line the console wrote, parsed. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startTestConsole(
  options: { auth?: HttpAuth; host?: string; now?: () => Date; health?: ConsoleServerOptions['health'] } = {},
): Promise<TestConsole> {
  const temp = await createTempDatabase('dbbeat_console');
  const db = await openDatabase({ databaseUrl: temp.url });
  await migrate(db);
  const redis = await PrivateRedis.start();
  const broker = await connectBroker(redis.url());
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const { app, context } = await buildConsoleServer({
    database: db,
    broker,
    auth: options.auth ?? testAuth(),
    host: options.host ?? '127.0.0.1',
    port: 0,
    log: pino({ level: 'info' }, sink),
    ...(options.now !== undefined && { now: options.now }),
    ...(options.health !== undefined && { health: options.health }),
  });
  await app.ready();
  return {
    app,
    context,
    db,
    temp,
    redis,
    broker,
    logs,
    async close() {
      await app.close();
      await context.prisma.$disconnect();
      await broker.close();
      await db.close();
      await redis.remove();
      await temp.drop();
    },
  };
}

export const bearer = { authorization: `Bearer ${TOKEN}`, host: '127.0.0.1' };
