// dbbeat's public API. The command line (src/cli) is built on the same functions.

// The beat.
export { startBeat, type BeatHandle } from './beat/index.js';
export { Beat, type BeatEvents } from './beat/beat.js';
export { OptionsError, resolveBeatOptions, type BeatOptions, type ResolvedBeatOptions } from './beat/options.js';
export { runTaskId } from './beat/task-id.js';

// The database: connections, migrations, our Prisma client, validation.
export {
  DataDirInUseError,
  MigrationChecksumError,
  MigrationFailedError,
  UnsupportedDatabaseUrlError,
  migrate,
  openDatabase,
  type OpenDatabase,
  type OpenDatabaseOptions,
} from './schema/open.js';
export type { Database } from './schema/database.js';
export { createClient, dbbeat, type DbbeatClient, type ScheduleTaskInput } from './schema/client.js';
export { ValidationError, checkPeriodicTask, type PeriodicTaskFields, type ValidationIssue } from './schema/validate.js';

// Schedules: pure time arithmetic.
export { ScheduleError, buildSchedule, isDue } from './schedules/index.js';
export type { DueCheck, Schedule, ScheduleSpec } from './schedules/types.js';

// Brokers.
export { connectBroker } from './broker/index.js';
export type { Broker, PublishOutcome, TaskMessage } from './broker/types.js';
