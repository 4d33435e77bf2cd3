// Who may use the console, and how a request proves it.
//
// Credentials come from configuration: a token (DBBEAT_HTTP_TOKEN, or a file), and/or
// basic-auth users (DBBEAT_HTTP_USER + DBBEAT_HTTP_PASSWORD, or a file of
// `user:password` lines). A script sends `Authorization: Bearer <token>` or
// `Basic …`; the web page logs in once (POST /api/session) and then carries an
// HttpOnly, SameSite=Strict session cookie plus a CSRF token in `X-CSRF-Token` on
// every write. Without credentials the console is for this machine only: it binds
// to loopback and answers only requests addressed to a loopback host name (so a web
// page elsewhere cannot reach it through DNS rebinding).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A problem in the console's configuration: exit code 2 on the command line. */
export class HttpConfigError extends Error {
  override readonly name = 'HttpConfigError';
}

export interface HttpAuthOptions {
  /** File whose content (trimmed) is the token. Env: DBBEAT_HTTP_TOKEN holds the token itself. */
  tokenFile?: string;
  /** File of `user:password` lines (# comments). Env: DBBEAT_HTTP_USER and DBBEAT_HTTP_PASSWORD. */
  usersFile?: string;
}

/** The credentials the console accepts. Never logged, never sent to a client. */
export interface HttpAuth {
  readonly token: string | undefined;
  readonly users: ReadonlyMap<string, string>;
  /** Whether any credential is configured (else: loopback only, no login). */
  readonly required: boolean;
}

/** Resolves the credentials: files given, then the environment. */
export function resolveHttpAuth(options: HttpAuthOptions = {}, env: NodeJS.ProcessEnv = process.env): HttpAuth {
  let token = env.DBBEAT_HTTP_TOKEN || undefined;
  if (options.tokenFile !== undefined) token = readSecretFile(options.tokenFile, 'token file').trim();
  if (token !== undefined && token.length < 16) {
    throw new HttpConfigError(
      'the HTTP token is shorter than 16 characters; use a long random one (e.g. `openssl rand -hex 32`)',
    );
  }
  const users = new Map<string, string>();
  if (env.DBBEAT_HTTP_USER) {
    if (!env.DBBEAT_HTTP_PASSWORD) throw new HttpConfigError('DBBEAT_HTTP_USER is set but DBBEAT_HTTP_PASSWORD is not');
    users.set(env.DBBEAT_HTTP_USER, env.DBBEAT_HTTP_PASSWORD);
  }
  if (options.usersFile !== undefined) {
    const lines = readSecretFile(options.usersFile, 'users file').split(/\r?\n/);
    lines.forEach((line, index) => {
      if (line.trim() === '' || line.trimStart().startsWith('#')) return;
      const colon = line.indexOf(':');
      if (colon <= 0 || colon === line.length - 1) {
        throw new HttpConfigError(`users file ${options.usersFile}, line ${index + 1}: expected user:password`);
      }
      users.set(line.slice(0, colon), line.slice(colon + 1));
    });
  }
  return { token, users, required: token !== undefined || users.size > 0 };
}

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new HttpConfigError(
      `cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
}

/** HOST:PORT (IPv6 in brackets) → its parts. @throws HttpConfigError naming the value */
export function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535)
    throw new HttpConfigError(`--http ${JSON.stringify(text)}: expected HOST:PORT, e.g. 127.0.0.1:8080`);
  return { host: match[1] ?? (match[2] || '127.0.0.1'), port };
}

/** Whether a host name or address is this machine's loopback. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

/**
 * Refuses to serve a non-loopback address without credentials.
 * @throws HttpConfigError with what to do instead
 */
export function checkBindAddress(host: string, auth: HttpAuth): void {
  if (auth.required || isLoopback(host)) return;
  throw new HttpConfigError(
    `refusing to listen on ${host} without credentials: anyone who can reach it could edit and run tasks. ` +
      'Set DBBEAT_HTTP_TOKEN (or --http-token-file), or DBBEAT_HTTP_USER and DBBEAT_HTTP_PASSWORD (or --http-users-file), ' +
      'or listen on 127.0.0.1',
  );
}

/** Who made a request, and how they proved it. */
export interface Principal {
  /** A user name, "token", or "local" (no credentials configured). */
  who: string;
  /** header: Authorization on this request; session: the page's cookie (writes need the CSRF token). */
  via: 'header' | 'session';
  /** The session's CSRF token (via session only). */
  csrf?: string;
}

interface Session {
  who: string;
  csrf: string;
  expiresAt: number;
}

/** The cookie that carries a session id. */
export const SESSION_COOKIE = 'dbbeat_session';
/** The header a session's writes carry the CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';
const SESSION_MS = 12 * 3600 * 1000;
const MAX_SESSIONS = 10_000;

/** Checks credentials and keeps the page's sessions (in memory: a restart logs everyone out). */
export class Authenticator {
  private readonly sessions = new Map<string, Session>();

  constructor(readonly auth: HttpAuth) {}

  /**
   * The principal of an Authorization header: undefined when there is none,
   * null when it is there but wrong.
   */
  fromAuthorization(header: string | undefined): Principal | null | undefined {
    if (header === undefined || header === '') return undefined;
    const [scheme, value = ''] = header.split(/\s+/, 2);
    if (scheme?.toLowerCase() === 'bearer') return this.checkToken(value) ? { who: 'token', via: 'header' } : null;
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return null;
      const user = decoded.slice(0, colon);
      return this.checkUser(user, decoded.slice(colon + 1)) ? { who: user, via: 'header' } : null;
    }
    return null;
  }

  /** The principal of a session cookie, or undefined. */
  fromCookie(cookieHeader: string | undefined, now = Date.now()): Principal | undefined {
    const id = readCookie(cookieHeader, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expiresAt <= now) {
      this.sessions.delete(id);
      return undefined;
    }
    return { who: session.who, via: 'session', csrf: session.csrf };
  }

  /**
   * Logs in with a token, or a user and password (nothing, when no credentials are
   * configured). Returns the new session's id and CSRF token, or null when refused.
   */
  login(
    body: { token?: unknown; username?: unknown; password?: unknown },
    now = Date.now(),
  ): { id: string; csrf: string; who: string } | null {
    let who: string | undefined;
    if (!this.auth.required) who = 'local';
    else if (typeof body.token === 'string' && this.checkToken(body.token)) who = 'token';
    else if (
      typeof body.username === 'string' &&
      typeof body.password === 'string' &&
      this.checkUser(body.username, body.password)
    ) {
      who = body.username;
    }
    if (who === undefined) return null;
    if (this.sessions.size >= MAX_SESSIONS) this.pruneSessions(now);
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    this.sessions.set(id, { who, csrf, expiresAt: now + SESSION_MS });
    return { id, csrf, who };
  }

  logout(cookieHeader: string | undefined): void {
    const id = readCookie(cookieHeader, SESSION_COOKIE);
    if (id !== undefined) this.sessions.delete(id);
  }

  private pruneSessions(now: number): void {
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
    // Still full: drop the oldest (Map keeps insertion order).
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
  }

  private checkToken(given: string): boolean {
    return this.auth.token !== undefined && sameSecret(given, this.auth.token);
  }

  private checkUser(user: string, password: string): boolean {
    const expected = this.auth.users.get(user);
    // Compare even for an unknown user, so timing does not tell which users exist.
    const ok = sameSecret(password, expected ?? randomBytes(16).toString('hex'));
    return expected !== undefined && ok;
  }
}

/** Constant-time comparison (of digests, so lengths do not leak either). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** One cookie's value from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value of a session (empty id and Max-Age=0: clear it). */
export function sessionCookie(id: string, secure: boolean): string {
  const maxAge = id === '' ? 0 : SESSION_MS / 1000;
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}
