// PGlite is a single PostgreSQL session. When a socket client's statement fires NOTIFY,
// the NotificationResponse goes out in that client's raw protocol stream and PGlite's
// own listen() callbacks never see it. This tap reads the outgoing stream of the socket
// server and hands such notifications to in-process listeners as well.
import type { PGlite } from '@electric-sql/pglite';

/** Receives (channel, payload) of each notification seen in the served stream. */
export type NotificationSink = (channel: string, payload: string) => void;

type RawStreamOptions = { onRawData: (data: Uint8Array) => void; syncToFs?: boolean };

/**
 * Returns a stand-in for `pglite` to give to PGLiteSocketServer: identical, except that
 * the protocol bytes it streams back to clients are also scanned for notifications.
 */
export function tapServedNotifications(pglite: PGlite, sink: NotificationSink): PGlite {
  return new Proxy(pglite, {
    get(target, property) {
      if (property === 'execProtocolRawStream') {
        return async (message: Uint8Array, options: RawStreamOptions) => {
          const scanner = new NotificationScanner(sink);
          return target.execProtocolRawStream(message, {
            ...options,
            onRawData: (data: Uint8Array) => {
              scanner.push(data);
              options.onRawData(data);
            },
          });
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      // Bound to the real instance: PGlite's methods use private fields.
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const NOTIFICATION_RESPONSE = 0x41; // 'A'

/** Splits a backend message stream (type byte, int32 length, body) across chunks. */
class NotificationScanner {
  private pending = new Uint8Array(0);

  constructor(private readonly sink: NotificationSink) {}

  push(chunk: Uint8Array): void {
    let buffer = this.pending.length === 0 ? chunk : concat(this.pending, chunk);
    while (buffer.length >= 5) {
      const length = new DataView(buffer.buffer, buffer.byteOffset + 1, 4).getInt32(0);
      if (buffer.length < 1 + length) break;
      if (buffer[0] === NOTIFICATION_RESPONSE) this.emit(buffer.subarray(5, 1 + length));
      buffer = buffer.subarray(1 + length);
    }
    this.pending = buffer.slice();
  }

  private emit(body: Uint8Array): void {
    // Body: int32 sender pid, channel\0, payload\0.
    const text = new TextDecoder().decode(body.subarray(4));
    const [channel = '', payload = ''] = text.split('\0');
    this.sink(channel, payload);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}
