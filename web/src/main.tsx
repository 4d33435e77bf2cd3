// The console page: log in, then the task table, the editor, the schedules, the beats and the workers.
// Routes are in the URL's hash: #/tasks, #/tasks/new, #/tasks/<id>, #/schedules, #/beats, #/workers.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import { ApiError, type Session, api, setCsrfToken } from './api.js';
import { Editor } from './editor.js';
import { Beats, Schedules } from './others.js';
import { RunHistory } from './runs.js';
import { TaskTable } from './tasks.js';
import { Workers } from './workers.js';

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/tasks');
  useEffect(() => {
    const onChange = () => setHash(location.hash || '#/tasks');
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return hash;
}

function Login({ onLogin }: { onLogin: (session: Session) => void }) {
  const [mode, setMode] = useState<'token' | 'password'>('token');
  const [token, setToken] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      onLogin(await api<Session>('POST', '/api/session', mode === 'token' ? { token } : { username, password }));
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : String(caught));
    }
  };
  return (
    <form class="login card" onSubmit={(event) => void submit(event)} aria-label="log in">
      <h1>dbbeat console</h1>
      <div class="tabs">
        <button type="button" class={mode === 'token' ? 'on' : ''} onClick={() => setMode('token')}>
          Token
        </button>
        <button type="button" class={mode === 'password' ? 'on' : ''} onClick={() => setMode('password')}>
          User and password
        </button>
      </div>
      {mode === 'token' ? (
        <label>
          API token
          <input
            name="token"
            type="password"
            autocomplete="current-password"
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </label>
      ) : (
        <>
          <label>
            User
            <input
              name="username"
              autocomplete="username"
              value={username}
              onInput={(e) => setUsername(e.currentTarget.value)}
            />
          </label>
          <label>
            Password
            <input
              name="password"
              type="password"
              autocomplete="current-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </label>
        </>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary">
        Log in
      </button>
    </form>
  );
}

function App() {
  const hash = useHash();
  const [session, setSession] = useState<Session | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const adopt = (next: Session) => {
    setCsrfToken(next.csrfToken);
    setSession(next);
  };
  useEffect(() => {
    (async () => {
      let current = await api<Session>('GET', '/api/session');
      // Without credentials configured (loopback only), a session is just a CSRF token.
      if (!current.authRequired && current.user === null) current = await api<Session>('POST', '/api/session', {});
      adopt(current);
    })().catch((error: unknown) => setFailure(String(error)));
  }, []);

  if (failure) return <p class="error">{failure}</p>;
  if (session === null) return <p class="muted">Loading…</p>;
  if (session.user === null) return <Login onLogin={adopt} />;

  const logout = async () => {
    await api('DELETE', '/api/session');
    setCsrfToken(null);
    setSession({ ...session, user: null, csrfToken: null });
  };
  const [, section = 'tasks', id] = hash.split('/');
  return (
    <>
      <header>
        <strong>dbbeat</strong>
        <nav>
          <a href="#/tasks" class={section === 'tasks' ? 'on' : ''}>
            Tasks
          </a>
          <a href="#/schedules" class={section === 'schedules' ? 'on' : ''}>
            Schedules
          </a>
          <a href="#/beats" class={section === 'beats' ? 'on' : ''}>
            Beats
          </a>
          <a href="#/workers" class={section === 'workers' ? 'on' : ''}>
            Workers
          </a>
        </nav>
        <span class="user">
          {session.user}
          {session.authRequired && (
            <button type="button" class="link" onClick={() => void logout()}>
              Log out
            </button>
          )}
        </span>
      </header>
      <main>
        {section === 'tasks' && id === undefined && <TaskTable />}
        {section === 'tasks' && id !== undefined && <Editor key={id} id={id === 'new' ? null : Number(id)} />}
        {section === 'tasks' && id !== undefined && id !== 'new' && (
          <RunHistory key={`runs-${id}`} taskId={Number(id)} />
        )}
        {section === 'schedules' && <Schedules />}
        {section === 'beats' && <Beats />}
        {section === 'workers' && <Workers />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
