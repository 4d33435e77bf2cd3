// The workers page: the live Celery workers as remote control sees them (GET /api/workers),
// with the queues each consumes and how many tasks each has registered.
import { useEffect, useState } from 'preact/hooks';

import { api } from './api.js';

interface Worker {
  hostname: string;
  queues: { name: string; exchange: string; exchangeType: string; routingKey: string }[];
  registeredCount: number;
  registered: string[];
}

interface WorkersAnswer {
  checkedAt: string | null;
  error: string | null;
  workers: Worker[];
}

export function Workers() {
  const [data, setData] = useState<WorkersAnswer | null>(null);
  useEffect(() => {
    const load = () => void api<WorkersAnswer>('GET', '/api/workers').then(setData);
    load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, []);
  if (data === null) return <p class="muted">Asking the workers…</p>;
  return (
    <section class="card">
      <h3>Workers</h3>
      <p class="muted small">
        Celery workers that answered remote control (as <code>celery inspect</code> asks) within 1 s
        {data.checkedAt && <>, at {data.checkedAt.slice(0, 19).replace('T', ' ')} UTC</>}. A task no worker consuming
        its queue has registered is flagged in the task list.
      </p>
      {data.error && <p class="error">{data.error}</p>}
      {!data.error && data.workers.length === 0 && <p>No worker answered.</p>}
      {data.workers.length > 0 && (
        <table class="workers">
          <thead>
            <tr>
              <th>Worker</th>
              <th>Queues</th>
              <th>Registered tasks</th>
            </tr>
          </thead>
          <tbody>
            {data.workers.map((worker) => (
              <tr key={worker.hostname} data-worker={worker.hostname}>
                <td class="mono">{worker.hostname}</td>
                <td>
                  {worker.queues.map((queue) => (
                    <span class="tag" key={queue.name}>
                      {queue.name}
                    </span>
                  ))}
                </td>
                <td title={worker.registered.join('\n')}>
                  <span class="num">{worker.registeredCount}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
