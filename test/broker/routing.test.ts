// routeTask compared with Celery 5's own routing: every case is sent through
// app.send_task with a producer that records what Celery would publish
// (exchange, routing key, the queue it declares), in one Python process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';

import {
  DEFAULT_ROUTING,
  type RouteMap,
  type RoutingSettings,
  globToRegExp,
  parseTaskRoutes,
  routeTask,
} from '../../src/broker/routing.js';

const ORACLE = `
import json, sys, contextlib
from celery import Celery

class FakeConnection:
    def _reraise_as_library_errors(self):
        return contextlib.nullcontext()

class FakeProducer:
    def __init__(self):
        self.connection = FakeConnection()
        self.published = None
    def publish(self, body, exchange=None, routing_key=None, declare=None, **kw):
        q = None
        if declare:
            d = declare[0]
            q = {'name': d.name, 'exchange': d.exchange.name, 'exchangeType': d.exchange.type, 'routingKey': d.routing_key}
        self.published = {'exchange': exchange, 'routingKey': routing_key, 'declare': q, 'priority': kw.get('priority')}

apps = {}
for line in sys.stdin:
    case = json.loads(line)
    key = json.dumps(case['settings'], sort_keys=True)
    if key not in apps:
        apps[key] = Celery('oracle', broker='memory://', set_as_current=False)
        apps[key].conf.update(case['settings'])
    app = apps[key]
    p = FakeProducer()
    opts = {k: v for k, v in case['options'].items() if v is not None}
    app.send_task(case['task'], [], {}, producer=p, **opts)
    out = p.published
    # Celery hands kombu a priority only through the options it got.
    sys.stdout.write(json.dumps(out) + '\\n')
`;

interface Case {
  task: string;
  own: { queue?: string; exchange?: string; routingKey?: string; priority?: number };
  settings: RoutingSettings;
}

async function celeryRoutes(cases: Case[]): Promise<unknown[]> {
  const child = spawn('/usr/bin/python3', ['-c', ORACLE], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const lines = cases.map((c) => {
    const settings: Record<string, unknown> = {
      task_default_queue: c.settings.defaultQueue,
      task_default_exchange_type: c.settings.defaultExchangeType,
      task_routes: c.settings.routes,
    };
    if (c.settings.defaultExchange !== null) settings.task_default_exchange = c.settings.defaultExchange;
    if (c.settings.defaultRoutingKey !== null) settings.task_default_routing_key = c.settings.defaultRoutingKey;
    const options = {
      queue: c.own.queue,
      exchange: c.own.exchange,
      routing_key: c.own.routingKey,
      priority: c.own.priority,
    };
    return JSON.stringify({ task: c.task, settings, options });
  });
  child.stdin.end(lines.join('\n') + '\n');
  assert.equal(await exited, 0, stderr);
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);
}

const ROUTES: RouteMap[][] = [
  [],
  [{ 'proj.tasks.add': 'adds', 'proj.*': { queue: 'proj', routing_key: 'proj.key' } }],
  [{ 'proj.tasks.*': { routing_key: 'only.key' } }, { '*': 'fallback' }],
  [{ 'proj.tasks.add': { exchange: 'routed_ex', routing_key: 'routed.key' } }],
  [{ 'proj.tasks.add': { exchange: 'routed_ex' } }],
  [{ 'proj.tasks.add': { queue: 'celery', priority: 7 }, 'other.?': 'q_other' }],
  [{ 'proj.tasks.add': { exchange: 'topic_ex', exchange_type: 'topic', routing_key: 'a.b' } }],
  [{ 'proj.tasks.add': '' }],
  [{ 'proj.tasks.[ab]dd': 'set' }, { 'proj.tasks.[!x]*': 'negset' }],
];
const DEFAULTS: Array<Omit<RoutingSettings, 'routes'>> = [
  DEFAULT_ROUTING,
  { defaultQueue: 'default_q', defaultExchange: null, defaultExchangeType: 'direct', defaultRoutingKey: null },
  { defaultQueue: 'dq', defaultExchange: 'dx', defaultExchangeType: 'direct', defaultRoutingKey: 'drk' },
  { defaultQueue: 'dq', defaultExchange: 'dx', defaultExchangeType: 'topic', defaultRoutingKey: 'drk' },
];
const OWN: Case['own'][] = [
  {},
  { routingKey: 'rk' },
  { queue: 'q' },
  { exchange: 'ex' },
  { queue: 'q', routingKey: 'rk' },
  { queue: 'q', exchange: 'ex' },
  { exchange: 'ex', routingKey: 'rk' },
  { queue: 'q', exchange: 'ex', routingKey: 'rk', priority: 3 },
  { queue: 'celery' },
  { queue: 'dq', routingKey: 'rk' },
  { priority: 9 },
];
const TASKS = ['proj.tasks.add', 'proj.tasks.mul', 'other.x', 'unrouted'];

describe('routeTask matches Celery 5 routing', () => {
  test('every combination of row options, task_routes and defaults', async () => {
    const cases: Case[] = [];
    for (const routes of ROUTES)
      for (const defaults of DEFAULTS)
        for (const own of OWN) for (const task of TASKS) cases.push({ task, own, settings: { ...defaults, routes } });
    const expected = await celeryRoutes(cases);
    let mismatches = 0;
    cases.forEach((c, i) => {
      const { exchangeType: _type, ...ours } = routeTask(c.task, c.own, c.settings);
      try {
        assert.deepEqual(ours, expected[i]);
      } catch {
        if (mismatches++ < 3)
          assert.fail(`${JSON.stringify(c)}\nours:   ${JSON.stringify(ours)}\ncelery: ${JSON.stringify(expected[i])}`);
      }
    });
    assert.equal(mismatches, 0);
    assert.ok(cases.length > 1000);
  });

  test('a routing key alone goes to the default queue', () => {
    assert.deepEqual(routeTask('t', { routingKey: 'reports' }), {
      exchange: '',
      routingKey: 'celery',
      exchangeType: 'direct',
      declare: { name: 'celery', exchange: 'celery', exchangeType: 'direct', routingKey: 'celery' },
      priority: null,
    });
  });

  test('globs follow fnmatch', () => {
    assert.ok(globToRegExp('proj.*').test('proj.tasks.add'));
    assert.ok(!globToRegExp('proj.*').test('xproj.a'));
    assert.ok(globToRegExp('a?c*').test('abc'));
    assert.ok(globToRegExp('a[!b]*').test('ac'));
    assert.ok(!globToRegExp('a[!b]*').test('ab'));
    assert.ok(globToRegExp('a.(b)+*').test('a.(b)+'));
  });

  test('CELERY_TASK_ROUTES: an object or a list of objects; bad shapes are named', () => {
    assert.deepEqual(parseTaskRoutes('{"a.*": "q"}'), [{ 'a.*': 'q' }]);
    assert.deepEqual(parseTaskRoutes('[{"a": {"queue": "q"}}, {"*": "r"}]'), [{ a: { queue: 'q' } }, { '*': 'r' }]);
    assert.throws(
      () => parseTaskRoutes('{"a": 3}', 'CELERY_TASK_ROUTES'),
      /CELERY_TASK_ROUTES\["a"\]: must be a queue name or an object/,
    );
    assert.throws(
      () => parseTaskRoutes('{"a": {"queu": "x"}}'),
      /task_routes\["a"\]\.queu: "x" is not a supported route option/,
    );
    assert.throws(() => parseTaskRoutes('[1]'), /task_routes\[0\]: must be an object/);
    assert.throws(() => parseTaskRoutes('{'), /task_routes: not JSON/);
  });
});
