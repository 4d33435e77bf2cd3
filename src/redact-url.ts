// The one URL redactor: every log line and error message that shows a database or
// broker URL shows it through this. Imports nothing, so db/ and broker/ may use it.

/**
 * The URL with its password replaced by `***` (the user name stays, so an operator can
 * tell accounts apart): `postgres://alice:***@host:5432/db`. A URL that does not parse
 * is redacted by pattern, so a malformed one never leaks a password either.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}
