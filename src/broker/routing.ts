// Where Celery 5 sends a task, decided as `app.send_task(name, **options)`
// decides it (celery/app/routes.py Router.route, then celery/app/amqp.py
// send_task_message): the task's own queue/exchange/routing_key first, then
// `task_routes` (exact task name, then glob patterns in order), then the
// defaults `task_default_queue` / `_exchange` / `_exchange_type` /
// `_routing_key`. Pure: no broker, no database.

/** What a task_routes entry says: a queue name, or options. */
export type RouteTarget =
  | string
  | {
      queue?: string | null;
      exchange?: string | null;
      routing_key?: string | null;
      exchange_type?: string | null;
      priority?: number | null;
    };

/** One router of `task_routes`: task name or glob (`proj.tasks.*`) → target. */
export type RouteMap = Readonly<Record<string, RouteTarget>>;

/** Celery's routing settings (names as in Celery, values as Celery's defaults when unset). */
export interface RoutingSettings {
  /** `task_default_queue` (default `celery`). */
  defaultQueue: string;
  /** `task_default_exchange`; null means the default queue's name. */
  defaultExchange: string | null;
  /** `task_default_exchange_type` (default `direct`). */
  defaultExchangeType: string;
  /** `task_default_routing_key`; null means the default queue's name. */
  defaultRoutingKey: string | null;
  /** `task_routes`: routers asked in order; the first that matches wins. */
  routes: readonly RouteMap[];
}

export const DEFAULT_ROUTING: RoutingSettings = Object.freeze({
  defaultQueue: 'celery',
  defaultExchange: null,
  defaultExchangeType: 'direct',
  defaultRoutingKey: null,
  routes: [],
});

/** A queue as Celery declares it before publishing: the queue, its exchange, and the binding between them. */
export interface DeclaredQueue {
  name: string;
  exchange: string;
  exchangeType: string;
  routingKey: string;
}

/** What Celery publishes with, and what it declares first. */
export interface Route {
  /** '' for the default exchange (then the routing key names the queue). */
  exchange: string;
  /** null where Celery publishes with none (a route with an exchange but no queue or routing key). */
  routingKey: string | null;
  /** The exchange's type as Celery sees it (it decides the anonymous-exchange shortcut). */
  exchangeType: string;
  /** The queue Celery declares (and binds to its own exchange) before publishing; null when none. */
  declare: DeclaredQueue | null;
  /** The row's priority, else the route's; null when neither has one. */
  priority: number | null;
}

/** A task's own routing options (the PeriodicTask row's columns); '' counts as unset. */
export interface TaskRouting {
  queue?: string | null;
  exchange?: string | null;
  routingKey?: string | null;
  priority?: number | null;
}

/**
 * Routes `task` as Celery 5's send_task would.
 * @param task the Celery task name, matched against `task_routes`
 * @param own the row's queue/exchange/routing_key/priority
 */
export function routeTask(task: string, own: TaskRouting, settings: RoutingSettings = DEFAULT_ROUTING): Route {
  const queueOf = (name: string): DeclaredQueue => {
    if (name === settings.defaultQueue) {
      return {
        name,
        exchange: settings.defaultExchange || name,
        exchangeType: settings.defaultExchangeType,
        routingKey: settings.defaultRoutingKey || name,
      };
    }
    // task_create_missing_queues: Queue(name, Exchange(name), name).
    return { name, exchange: name, exchangeType: 'direct', routingKey: name };
  };
  // Router.route: the task's options, with 'queue' expanded.
  const options: Options = {};
  if (own.queue) options.queue = queueOf(own.queue);
  if (own.exchange) options.exchange = own.exchange;
  if (own.routingKey) options.routingKey = own.routingKey;
  if (own.priority != null) options.priority = own.priority;

  let merged: Options;
  const target = lookupRoute(task, settings.routes);
  // `if route:` — an empty route ('' or {}) stops the lookup but routes nothing.
  if (target !== undefined && (typeof target === 'string' ? target !== '' : Object.keys(target).length > 0)) {
    // lpmerge(route, options): the task's own values win where set.
    merged = { ...expandTarget(target, queueOf), ...options };
  } else {
    merged = options.queue === undefined ? { queue: queueOf(settings.defaultQueue), ...options } : options;
  }

  // send_task_message.
  let queue = merged.queue;
  let exchange = merged.exchange;
  let routingKey: string | null | undefined = merged.routingKey;
  if (queue === undefined && exchange === undefined) queue = queueOf(settings.defaultQueue);
  const queueName = queue?.name ?? null;
  const exchangeType = merged.exchangeType ?? queue?.exchangeType ?? 'direct';
  if ((!exchange || !routingKey) && exchangeType === 'direct') {
    exchange = '';
    routingKey = queueName;
  } else if (exchange === undefined) {
    exchange = queue?.exchange || settings.defaultExchange || settings.defaultQueue;
    routingKey = routingKey || queue?.routingKey || settings.defaultRoutingKey || settings.defaultQueue;
  }
  return {
    exchange: exchange ?? '',
    routingKey: routingKey ?? null,
    exchangeType,
    declare: queue ?? null,
    priority: merged.priority ?? null,
  };
}

interface Options {
  queue?: DeclaredQueue;
  exchange?: string;
  routingKey?: string;
  exchangeType?: string;
  priority?: number;
}

function expandTarget(target: RouteTarget, queueOf: (name: string) => DeclaredQueue): Options {
  if (typeof target === 'string') return target ? { queue: queueOf(target) } : {};
  const options: Options = {};
  if (target.queue) options.queue = queueOf(target.queue);
  if (target.exchange != null) options.exchange = target.exchange;
  if (target.routing_key != null) options.routingKey = target.routing_key;
  if (target.exchange_type != null) options.exchangeType = target.exchange_type;
  if (target.priority != null) options.priority = target.priority;
  return options;
}

/** MapRoute: the exact name first, then patterns (keys with `*`) in order; routers in order. */
function lookupRoute(task: string, routes: readonly RouteMap[]): RouteTarget | undefined {
  for (const map of routes) {
    // Keys with `*` are patterns, the others exact names.
    if (!task.includes('*') && Object.hasOwn(map, task)) return map[task];
    for (const [pattern, target] of Object.entries(map)) {
      if (pattern.includes('*') && globToRegExp(pattern).test(task)) return target;
    }
  }
  return undefined;
}

const globCache = new Map<string, RegExp>();

/** Python's fnmatch.translate: `*`, `?`, `[seq]`, `[!seq]`; everything else literal; whole-string match. */
export function globToRegExp(pattern: string): RegExp {
  let cached = globCache.get(pattern);
  if (cached) return cached;
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) out += '\\[';
      else {
        let body = pattern.slice(i + 1, j).replaceAll('\\', '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        else if (body.startsWith('^')) body = `\\${body}`;
        out += `[${body}]`;
        i = j;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  cached = new RegExp(`^(?:${out})$`, 's');
  globCache.set(pattern, cached);
  return cached;
}

/**
 * Reads `task_routes` as JSON (CELERY_TASK_ROUTES, --task-routes): an object
 * (one router) or a list of objects; each value a queue name or an object with
 * queue / exchange / routing_key / exchange_type / priority.
 * @throws Error naming the entry that is not of that shape
 */
export function parseTaskRoutes(text: string, source = 'task_routes'): RouteMap[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not JSON (${(error as Error).message})`, { cause: error });
  }
  const maps = Array.isArray(value) ? value : [value];
  return maps.map((map, index) => {
    const where = Array.isArray(value) ? `${source}[${index}]` : source;
    if (typeof map !== 'object' || map === null || Array.isArray(map))
      throw new Error(`${where}: must be an object of task name or pattern -> queue or options`);
    for (const [pattern, target] of Object.entries(map as Record<string, unknown>)) {
      if (typeof target === 'string') continue;
      if (typeof target !== 'object' || target === null || Array.isArray(target)) {
        throw new Error(`${where}[${JSON.stringify(pattern)}]: must be a queue name or an object`);
      }
      for (const [key, option] of Object.entries(target as Record<string, unknown>)) {
        const ok =
          key === 'priority'
            ? option === null || (Number.isInteger(option) && (option as number) >= 0 && (option as number) <= 255)
            : ['queue', 'exchange', 'routing_key', 'exchange_type'].includes(key) &&
              (option === null || typeof option === 'string');
        if (!ok)
          throw new Error(
            `${where}[${JSON.stringify(pattern)}].${key}: ${JSON.stringify(option)} is not a supported route option (queue, exchange, routing_key, exchange_type: strings; priority: 0-255)`,
          );
      }
    }
    return map as RouteMap;
  });
}
