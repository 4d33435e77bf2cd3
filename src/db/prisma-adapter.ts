// Prisma's driver adapters are loaded only when a Prisma client connects: `dbbeat beat`
// never uses Prisma, and the adapters pull in Prisma's runtime.
import type { SqlDriverAdapterFactory } from '@prisma/client/runtime/client';

/**
 * A driver adapter factory that imports the real one on the first `connect()`.
 * `provider` and `adapterName` are the real factory's, known without loading it.
 */
export function lazyAdapter(
  provider: SqlDriverAdapterFactory['provider'],
  adapterName: string,
  load: () => Promise<SqlDriverAdapterFactory>,
): SqlDriverAdapterFactory {
  let factory: Promise<SqlDriverAdapterFactory> | undefined;
  return {
    provider,
    adapterName,
    async connect() {
      factory ??= load();
      return (await factory).connect();
    },
  };
}
