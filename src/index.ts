// dbbeat's public API. The command line (src/cli) is built on the same functions.

// The beat.
export { startBeat, startResolvedBeat, type BeatHandle } from './beat/index.js';
export { Beat, type BeatEvents } from './beat/loop.js';
export { type Clock, systemClock } from './beat/clock.js';
export { runTaskId } from './beat/task-id.js';

// Settings: flags, then environment, then defaults.
export { OptionsError, resolveConfig, type BeatOptions, type ResolvedConfig } from './config.js';
export { redactUrl } from './redact-url.js';

// The database: connections, migrations, our Prisma client, validation.
export {
  DataDirInUseError,
  MigrationChecksumError,
  MigrationFailedError,
  UnsupportedDatabaseUrlError,
  beatStoreFor,
  migrate,
  openDatabase,
  type OpenDatabase,
  type OpenDatabaseOptions,
} from './db/open.js';
export type { Database } from './db/database.js';
export type { BeatStore, TaskRow } from './db/store.js';
export { createClient, dbbeat, type DbbeatClient, type ScheduleTaskInput } from './model/client.js';
export { ValidationError, checkPeriodicTask, type PeriodicTaskFields, type ValidationIssue } from './model/validate.js';

// Schedules: pure time arithmetic.
export { ScheduleError, buildSchedule, isDue } from './schedules/index.js';
export type { DueCheck, Schedule, ScheduleSpec } from './schedules/types.js';

// Brokers.
export { connectBroker } from './broker/index.js';
export type { Broker, PublishOutcome, TaskMessage } from './broker/types.js';
// Payloads exactly as Python reads and writes them (big ints, 1.0, NaN).
export {
  PyDict,
  PyJsonError,
  PyJsonText,
  PyNumber,
  type PyValue,
  dumpPyJson,
  parsePyJson,
  toPyJson,
  toPyValue,
} from './broker/pyjson.js';
// Celery's routing (task_routes, task_default_*).
export {
  DEFAULT_ROUTING,
  parseTaskRoutes,
  routeTask,
  type Route,
  type RouteMap,
  type RoutingSettings,
} from './broker/routing.js';

// Sending tasks by hand: Celery's send_task, and a periodic task's "run now".
export { SendTaskError, sendTask, sendTaskMessage, type SendTaskOptions } from './broker/send-task.js';
export { InvalidTaskError, MANUAL_RUN_HEADER, runNow, type RunNowOptions } from './beat/run-now.js';

// The console: REST API and web page (also `dbbeat serve`, `dbbeat beat --http`).
export { startConsoleServer, type ConsoleServer, type ConsoleServerOptions } from './http/server.js';
export { HttpConfigError, resolveHttpAuth, type HttpAuth, type HttpAuthOptions } from './http/auth.js';
export {
  TaskNotFoundError,
  VersionConflictError,
  createTask,
  deleteTasks,
  setTasksEnabled,
  updateTask,
  type TaskInput,
  type TaskWrite,
} from './model/task-edit.js';

// Outcomes: Celery's result backends, and the counterpart of Celery's AsyncResult.
export {
  AsyncResult,
  ResultTimeoutError,
  TaskFailedError,
  asyncResult,
  type AsyncResultOptions,
  type CeleryState,
  type GetOptions,
} from './outcomes/async-result.js';
export {
  ResultBackendUrlError,
  parseResultBackendUrl,
  type ResultBackend,
  type ResultBackendSpec,
  type TaskMeta,
} from './outcomes/result-backend.js';
export { openResultBackend } from './outcomes/result-backend-open.js';
