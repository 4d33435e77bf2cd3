// What the events consumer needs of a broker: a subscription to Celery's task events,
// delivering each message's decoded JSON body. One implementation per broker kind.

/** The exchange Celery's workers send events to (Celery's event_exchange setting). */
export const DEFAULT_EVENT_EXCHANGE = 'celeryev';

/** Where sources report what they handled rather than threw. */
export interface EventSourceLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface EventSource {
  /**
   * Subscribes to the task events of `exchange` and calls `onBody` with the parsed JSON of
   * each message (one event or a list of them). Resolves once subscribed; rejects if the
   * first attempt fails (the source keeps reconnecting in the background either way).
   */
  start(onBody: (body: unknown) => void): Promise<void>;
  /** Unsubscribes and closes the connection; messages published meanwhile are not received. */
  stop(): Promise<void>;
}

/** A message body that is not JSON: kept to one warning per source and reason. */
export class UndecodableEvents {
  private readonly warned = new Set<string>();
  constructor(
    private readonly log: EventSourceLogger,
    private readonly broker: string,
  ) {}

  /** Parses `text` as JSON, or warns once for this kind of problem and returns undefined. */
  parse(text: string, contentType: string | undefined): unknown {
    if (contentType !== undefined && contentType !== 'application/json') {
      this.warnOnce(
        `content type ${contentType}`,
        `Celery events in ${contentType} are skipped: dbbeat reads JSON events (event_serializer = 'json', Celery's default)`,
      );
      return undefined;
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      this.warnOnce('json', `a Celery event that is not JSON was skipped: ${(error as Error).message}`);
      return undefined;
    }
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn({ broker: this.broker }, message);
  }
}
