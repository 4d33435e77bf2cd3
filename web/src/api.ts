// The page's calls to the REST API: JSON in and out, the session's CSRF token on writes.

export interface Issue {
  field: string;
  value: unknown;
  message: string;
}

/** An answer other than 2xx: status, message, and the field issues of a 422. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues: Issue[] = [],
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface RunTime {
  utc: string;
  local: string;
  zone: string;
}

export interface Task {
  id: number;
  name: string;
  task: string;
  description: string;
  enabled: boolean;
  oneOff: boolean;
  args: string;
  kwargs: string;
  headers: string;
  queue: string | null;
  exchange: string | null;
  routingKey: string | null;
  priority: number | null;
  expires: string | null;
  expireSeconds: number | null;
  startTime: string | null;
  lastRunAt: string | null;
  totalRunCount: number;
  dateChanged: string;
  version: string;
  schedule: {
    kind: 'crontab' | 'interval' | 'solar' | 'clocked' | null;
    id: number | null;
    text: string;
    fields: Record<string, unknown> | null;
  };
  nextRun: RunTime | null;
  valid: boolean;
  problem: string | null;
  /** Whether a live worker consuming its queue has its task registered; null when disabled. */
  registration?: 'registered' | 'unregistered' | 'no worker for queue' | 'unknown' | null;
  /** Null unless its last K runs failed, or its last run was LOST. */
  failing?: { reason: 'failures' | 'lost'; failures: number } | null;
}

export interface TaskPage {
  total: number;
  limit: number;
  offset: number;
  items: Task[];
}

export interface Session {
  authRequired: boolean;
  user: string | null;
  csrfToken: string | null;
}

let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Calls the API; resolves with the JSON answer, rejects with ApiError. */
export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const init: RequestInit = { method, headers: { ...headers }, credentials: 'same-origin' };
  if (body !== undefined) {
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && csrfToken !== null) (init.headers as Record<string, string>)['X-CSRF-Token'] = csrfToken;
  const response = await fetch(path, init);
  const text = await response.text();
  const answer = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  if (!response.ok) {
    const message = typeof answer.error === 'string' ? answer.error : response.statusText;
    throw new ApiError(response.status, message, (answer.issues as Issue[] | undefined) ?? [], answer);
  }
  return answer as T;
}

/** A query string of the defined, non-empty values. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * "2026-12-01 09:00" from an ISO time with offset (its wall time, as written), with the
 * seconds when they are not zero ("2026-12-01 09:00:07"): runs of an interval in seconds
 * would otherwise read as the same minute, several times over.
 */
export function wallTime(iso: string): string {
  const seconds = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?/.exec(iso)?.[1];
  const shown = seconds === undefined || seconds === ':00' ? iso.slice(0, 16) : iso.slice(0, 19);
  return shown.replace('T', ' ');
}
