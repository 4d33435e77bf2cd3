// The pieces of Celery's remote control that every transport shares: the command message,
// the pidbox names, the reply shape (kombu/pidbox.py Mailbox._publish, _collect;
// celery/app/control.py). remote-control.ts picks a transport; the transports use these.
/** One worker's answer to one command, as `{hostname: reply}` flattened (celery flatten_reply). */
export type Replies = Map<string, unknown>;

export interface BroadcastOptions {
  /** How long to collect replies, in ms (Celery's `timeout`, default 1 s). */
  timeoutMs?: number;
}

/** Sends pidbox commands to all workers and collects their replies. */
export interface RemoteControl {
  /**
   * Broadcasts `command` with `args` to every worker and resolves with the replies that came
   * within the timeout, by worker hostname. It returns early when every worker that received
   * the command has answered, where the broker tells how many did (Redis: PUBLISH's receiver
   * count; RabbitMQ: a command no queue took comes back, so none → at once).
   * @throws when the broker cannot be reached
   */
  broadcast(command: string, args: Record<string, unknown>, options?: BroadcastOptions): Promise<Replies>;
  close(): Promise<void>;
}

export interface RemoteControlOptions {
  /** Celery's `control_exchange` (env CELERY_CONTROL_EXCHANGE); default `celery`. */
  controlExchange?: string;
}

/** Celery's default `control_exchange`. */
export const DEFAULT_CONTROL_EXCHANGE = 'celery';
/** Celery's default inspect timeout, in ms. */
export const DEFAULT_INSPECT_TIMEOUT_MS = 1000;

/** The names kombu's Mailbox derives from the control exchange (`%s.pidbox`, `reply.%s.pidbox`). */
export function pidboxNames(controlExchange: string): { exchange: string; replyExchange: string } {
  return { exchange: `${controlExchange}.pidbox`, replyExchange: `reply.${controlExchange}.pidbox` };
}

/**
 * The command message kombu's Mailbox._publish sends (destination, pattern and matcher null:
 * every worker runs it), with the reply address of this call.
 */
export function commandBody(
  command: string,
  args: Record<string, unknown>,
  ticket: string,
  replyTo: { exchange: string; routingKey: string },
): string {
  return JSON.stringify({
    method: command,
    arguments: args,
    destination: null,
    pattern: null,
    matcher: null,
    ticket,
    reply_to: { exchange: replyTo.exchange, routing_key: replyTo.routingKey },
  });
}

/**
 * Adds one reply body (`{hostname: reply}`, kombu Node.dispatch) to `into`; a body of
 * another shape is ignored.
 */
export function addReply(into: Replies, body: unknown): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
  for (const [hostname, reply] of Object.entries(body)) into.set(hostname, reply);
}
