// kombu's names on Redis: priority lists, binding sets and members, topic patterns
// (kombu/transport/redis.py, kombu/transport/virtual/exchange.py).
import type { Destination } from './message.js';

/** kombu's separator inside list and binding names. */
export const SEP = '\x06\x16';
/** kombu's PRIORITY_STEPS; the worker serves lower steps first. */
const PRIORITY_STEPS = [0, 3, 6, 9] as const;

/**
 * The list a message of priority `priority` goes to (kombu `_q_for_pri`):
 * clamp to 0..9, take the largest step not above it.
 */
export function priorityListName(queue: string, priority: number | null): string {
  if (priority === null) return queue;
  const clamped = Math.max(0, Math.min(9, Math.trunc(priority)));
  let step = 0;
  for (const candidate of PRIORITY_STEPS) if (candidate <= clamped) step = candidate;
  return step === 0 ? queue : `${queue}${SEP}${step}`;
}

/** kombu's binding set for an exchange (`_kombu.binding.<exchange>`). */
export function bindingKey(exchange: string): string {
  return `_kombu.binding.${exchange}`;
}

/** The binding member kombu records when it declares `queue` bound with `routingKey`: `<routing key>\x06\x16<pattern>\x06\x16<queue>`. */
export function queueBindingMember(queue: string, routingKey = queue): string {
  return [routingKey, '', queue].join(SEP);
}

/** kombu's TopicExchange pattern: `*` one word, `#` any words. */
export function topicMatches(pattern: string, routingKey: string): boolean {
  const words = pattern
    .split('.')
    .map((word) => (word === '*' ? '[^.]+' : word === '#' ? '.*?' : word.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
  return new RegExp(`^${words.join('\\.')}$`).test(routingKey);
}

/**
 * The queues a message for a named exchange goes to: kombu's exchange lookup over the
 * exchange's binding set (`table`: [routing key, pattern, queue] per member), plus the
 * binding Celery's declare adds before publishing; direct: equal keys, topic: patterns,
 * fanout: all. Where Celery would lose the message (nothing bound), dbbeat delivers it to
 * `destination.queue`. Each queue once, in binding order.
 */
export function exchangeQueues(destination: Destination, table: readonly string[][]): string[] {
  const declare = destination.declare;
  const rows =
    declare && declare.exchange === destination.exchange ? [...table, [declare.routingKey, '', declare.name]] : table;
  const bound = rows
    .filter(([routingKey = '']) =>
      destination.exchangeType === 'fanout'
        ? true
        : destination.exchangeType === 'topic'
          ? topicMatches(routingKey, destination.routingKey)
          : routingKey === destination.routingKey,
    )
    .map(([, , queue]) => queue ?? '')
    .filter((queue) => queue !== '');
  return bound.length > 0 ? [...new Set(bound)] : [destination.queue];
}
