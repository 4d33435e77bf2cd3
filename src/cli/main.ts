// The `dbbeat` command line: one subcommand per file in this folder.
//
// Start-up stays light: only commander and the chosen subcommand's module are loaded
// (the beat pulls in Prisma, PGlite, pg and the brokers, which take most of a second).
// The other subcommands are registered by name and description only, for `--help`.
import { readFileSync } from 'node:fs';

import { Command } from 'commander';

/** Every subcommand: its description (shown by `dbbeat --help`) and how to register it fully. */
const COMMANDS: Record<string, { description: string; register: () => Promise<(program: Command) => void> }> = {
  beat: {
    description: 'run the scheduler: send due periodic tasks to the broker',
    register: async () => (await import('./beat.js')).registerBeatCommand,
  },
  migrate: {
    description: "create django-celery-beat's tables (or adopt existing ones) and dbbeat's triggers and tables",
    register: async () => (await import('./migrate.js')).registerMigrateCommand,
  },
  doctor: {
    description:
      "check the database: migrations and their checksums, dbbeat's tables, triggers and functions, the leader lease; exit 0 when healthy, 1 otherwise",
    register: async () => (await import('./doctor.js')).registerDoctorCommand,
  },
  next: {
    description: 'preview run times of a schedule',
    register: async () => (await import('./next.js')).registerNextCommand,
  },
  runs: {
    description: 'run history, newest first: task, slot, sent, lateness, state, runtime, worker, exception',
    register: async () => (await import('./runs.js')).registerRunsCommand,
  },
  serve: {
    description: 'serve the console: the web page at / and the REST API under /api/ (OpenAPI at /api/openapi.json)',
    register: async () => (await import('./serve.js')).registerServeCommand,
  },
  tasks: {
    description: 'list, show, enable, disable, run and delete periodic tasks',
    register: async () => (await import('./tasks.js')).registerTasksCommand,
  },
};

/** Exit code of a usage error (an unknown flag or command, a bad option value). */
const USAGE_EXIT_CODE = 2;

/** The package's version, from its package.json (two folders up from src/cli or dist/cli). */
function packageVersion(): string {
  const json = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return json.version;
}

/** The subcommand the arguments name (`dbbeat help beat` names beat), if any. */
function chosenCommand(args: readonly string[]): string | undefined {
  const words = args.filter((arg) => !arg.startsWith('-'));
  const word = words[0] === 'help' ? words[1] : words[0];
  return word !== undefined && Object.hasOwn(COMMANDS, word) ? word : undefined;
}

const program = new Command()
  .name('dbbeat')
  .description('Database-backed periodic task scheduler for Celery')
  .version(packageVersion(), '-V, --version', 'print the version and exit')
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : USAGE_EXIT_CODE));

const chosen = chosenCommand(process.argv.slice(2));
for (const [name, command] of Object.entries(COMMANDS)) {
  if (name === chosen) (await command.register())(program);
  else program.command(name).description(command.description);
}

await program.parseAsync(process.argv);
