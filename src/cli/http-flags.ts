// The console's address and credential flags, shared by `dbbeat serve` and `dbbeat beat --http`.
// Apart from serve.ts so that `dbbeat beat` without --http loads no HTTP server.
import type { Command } from 'commander';

import { type HttpAuth, checkBindAddress, parseListenAddress, resolveHttpAuth } from '../http/auth.js';

/** The console's own flags, shared by `serve` and `beat`. */
export interface HttpFlags {
  http?: string;
  httpTokenFile?: string;
  httpUsersFile?: string;
}

/** Adds --http-token-file and --http-users-file to a command. */
export function addHttpAuthOptions(command: Command): Command {
  return command
    .option('--http-token-file <path>', 'file holding the API token (env DBBEAT_HTTP_TOKEN holds it directly)')
    .option(
      '--http-users-file <path>',
      'file of user:password lines for basic auth (env DBBEAT_HTTP_USER and DBBEAT_HTTP_PASSWORD)',
    );
}

/** The checked address and credentials of the console. @throws HttpConfigError (exit code 2) */
export function resolveHttp(flags: HttpFlags, fallback: string): { host: string; port: number; auth: HttpAuth } {
  const { host, port } = parseListenAddress(flags.http ?? fallback);
  const auth = resolveHttpAuth({
    ...(flags.httpTokenFile !== undefined && { tokenFile: flags.httpTokenFile }),
    ...(flags.httpUsersFile !== undefined && { usersFile: flags.httpUsersFile }),
  });
  checkBindAddress(host, auth);
  return { host, port, auth };
}
