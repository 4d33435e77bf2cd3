// The live workers (who answers `registered` and `active_queues`), and for a periodic
// task whether one of them would run it: a worker discards a message whose task it has
// not registered ("Received unregistered task"), so a misspelled `task` turns a schedule
// into nothing. The check is pure; WorkerDirectory keeps the last answer for a few seconds.
import { type Route, type RoutingSettings, routeTask } from '../broker/routing.js';
import {
  type BroadcastOptions,
  type ConsumedQueue,
  DEFAULT_INSPECT_TIMEOUT_MS,
  type RemoteControl,
  activeQueues,
  registeredTasks,
} from './remote-control.js';

/** A worker that answered. */
export interface WorkerInfo {
  hostname: string;
  /** What it consumes (`active_queues`); empty when it did not answer that command. */
  queues: ConsumedQueue[];
  /** Its registered task names, built-ins included, sorted. */
  registered: string[];
}

/** The workers as seen at one moment. */
export interface WorkerSnapshot {
  /** When the question was asked. */
  at: Date;
  workers: WorkerInfo[];
  /** Why the broker could not be asked (then `workers` is empty). */
  error: string | null;
}

/**
 * Whether a live worker would run a task:
 * - `registered`: a worker consuming the task's queue has its `task` registered;
 * - `unregistered`: workers consume its queue, none has the task;
 * - `no worker for queue`: workers answered, none consumes its queue;
 * - `unknown`: no worker answered (or the broker could not be asked).
 */
export type Registration = 'registered' | 'unregistered' | 'no worker for queue' | 'unknown';

/**
 * Asks every worker for `registered` and `active_queues` at once (so the whole takes one
 * timeout, not two), and merges the answers by hostname.
 * @throws when the broker cannot be reached
 */
export async function inspectWorkers(control: RemoteControl, options?: BroadcastOptions): Promise<WorkerInfo[]> {
  const [registered, queues] = await Promise.all([registeredTasks(control, options), activeQueues(control, options)]);
  const hostnames = new Set([...registered.keys(), ...queues.keys()]);
  return [...hostnames].sort().map((hostname) => ({
    hostname,
    queues: queues.get(hostname) ?? [],
    registered: [...(registered.get(hostname) ?? [])].sort(),
  }));
}

/** The row fields the check needs. */
export interface TaskRouteFields {
  task: string;
  queue: string | null;
  exchange: string | null;
  routingKey: string | null;
}

/**
 * Whether a live worker consuming the task's destination (routed as Celery's send_task
 * routes it: the row's queue/exchange/routing key, then `task_routes`, then the default
 * queue) has its task registered.
 */
export function registrationOf(
  row: TaskRouteFields,
  workers: readonly WorkerInfo[],
  routing?: RoutingSettings,
): Registration {
  if (workers.length === 0) return 'unknown';
  const route = routeTask(row.task, { queue: row.queue, exchange: row.exchange, routingKey: row.routingKey }, routing);
  const consuming = workers.filter((worker) => worker.queues.some((queue) => receives(queue, route)));
  if (consuming.length === 0) return 'no worker for queue';
  return consuming.some((worker) => worker.registered.includes(row.task)) ? 'registered' : 'unregistered';
}

/** Whether a message published on `route` lands in the consumed `queue`. */
function receives(queue: ConsumedQueue, route: Route): boolean {
  // The default exchange delivers to the queue the routing key names.
  if (route.exchange === '') return queue.name === route.routingKey;
  // The queue Celery declares and binds before publishing.
  if (route.declare !== null && route.declare.name === queue.name && bindingMatches(route.declare, route)) return true;
  return bindingMatches(queue, route);
}

function bindingMatches(
  binding: { exchange: string; exchangeType: string; routingKey: string },
  route: Route,
): boolean {
  if (binding.exchange !== route.exchange) return false;
  if (binding.exchangeType === 'fanout') return true;
  const key = route.routingKey ?? '';
  if (binding.exchangeType === 'topic') return topicMatches(binding.routingKey, key);
  return binding.routingKey === key;
}

/** AMQP topic binding: `*` one word, `#` zero or more words. */
function topicMatches(pattern: string, key: string): boolean {
  const match = (p: string[], k: string[]): boolean => {
    if (p.length === 0) return k.length === 0;
    const [head, ...rest] = p;
    if (head === '#') return match(rest, k) || (k.length > 0 && match(p, k.slice(1)));
    return k.length > 0 && (head === '*' || head === k[0]) && match(rest, k.slice(1));
  };
  return match(pattern.split('.'), key === '' ? [] : key.split('.'));
}

export interface WorkerDirectoryOptions {
  /** How long an answer is reused, in ms (default 5000). */
  ttlMs?: number;
  /** How long each question waits for replies, in ms (default 1000, Celery's). */
  timeoutMs?: number;
  now?: () => Date;
}

/**
 * The workers, asked at most once per `ttlMs`: callers within that time get the same
 * answer, and callers while a question is out share it.
 */
export class WorkerDirectory {
  private last: WorkerSnapshot | null = null;
  private pending: Promise<WorkerSnapshot> | null = null;
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly control: RemoteControl,
    options: WorkerDirectoryOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_INSPECT_TIMEOUT_MS;
    this.now = options.now ?? (() => new Date());
  }

  /** The last answer if younger than the TTL, else a new one. Never rejects: a broker error is in `error`. */
  current(options: { refresh?: boolean } = {}): Promise<WorkerSnapshot> {
    const last = this.last;
    if (!options.refresh && last && this.now().getTime() - last.at.getTime() < this.ttlMs) return Promise.resolve(last);
    this.pending ??= this.ask().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async ask(): Promise<WorkerSnapshot> {
    const at = this.now();
    let snapshot: WorkerSnapshot;
    try {
      snapshot = { at, workers: await inspectWorkers(this.control, { timeoutMs: this.timeoutMs }), error: null };
    } catch (error) {
      snapshot = { at, workers: [], error: error instanceof Error ? error.message : String(error) };
    }
    this.last = snapshot;
    return snapshot;
  }

  close(): Promise<void> {
    return this.control.close();
  }
}
