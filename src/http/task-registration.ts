// The `registration` field of the tasks the API lists: for each enabled task, whether a
// live worker consuming its queue has its task registered (outcomes/remote-control-workers.ts).
// The worker view is the console's cached one, so a list waits for the workers at most
// once per cache period (one remote-control timeout).
import { registrationOf } from '../outcomes/remote-control-workers.js';
import type { ConsoleContext } from './context.js';
import type { TaskView } from './task-view.js';

/** The views with `registration` set: null for disabled tasks, `unknown` when no worker view is configured. */
export async function withRegistrations(
  context: Pick<ConsoleContext, 'workers' | 'routing'>,
  views: TaskView[],
): Promise<TaskView[]> {
  if (!views.some((view) => view.enabled)) return views.map((view) => ({ ...view, registration: null }));
  const snapshot = context.workers === null ? null : await context.workers.current();
  const workers = snapshot?.workers ?? [];
  return views.map((view) => ({
    ...view,
    registration: view.enabled ? registrationOf(view, workers, context.routing) : null,
  }));
}
