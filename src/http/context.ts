import type { Logger } from 'pino';

import type { RoutingSettings } from '../broker/routing.js';
import type { Broker } from '../broker/types.js';
import type { OpenDatabase } from '../db/open.js';
import type { WorkerDirectory } from '../outcomes/remote-control-workers.js';
import type { RunHistory } from '../db/run-store.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { FailingCheck } from '../outcomes/failing.js';
import type { Authenticator } from './auth.js';

// Its own file so that the route modules and the server that registers them do not
// import each other.

/** What the routes share. */
export interface ConsoleContext {
  db: Pick<OpenDatabase, 'kind' | 'query'>;
  prisma: PrismaClient;
  broker: Broker;
  log: Logger;
  displayZone: string;
  now: () => Date;
  authenticator: Authenticator;
  /** The live workers (remote control), asked at most every few seconds; null: not asked. */
  workers: WorkerDirectory | null;
  /** Celery's routing settings: where a task's runs go (the worker check follows them). */
  routing: RoutingSettings;
  /** Run history's reads (and the manual runs' rows). */
  runs: RunHistory;
  /** Which tasks are failing (K = failingAfter). */
  failing: FailingCheck;
  /** Where "run now" records its run (the broker URL without password, routing for the queue); null: not recorded. */
  manualRunHistory: { broker: string; routing: RoutingSettings } | null;
}
