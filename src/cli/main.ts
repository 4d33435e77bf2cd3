// The `dbbeat` command line: one subcommand per file in this folder.
import { Command } from 'commander';

import { registerBeatCommand } from './beat.js';
import { registerMigrateCommand } from './migrate.js';
import { registerNextCommand } from './next.js';
import { registerServeCommand } from './serve.js';
import { registerTasksCommand } from './tasks.js';

const program = new Command()
  .name('dbbeat')
  .description('Database-backed periodic task scheduler for Celery')
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode));

registerBeatCommand(program);
registerMigrateCommand(program);
registerNextCommand(program);
registerServeCommand(program);
registerTasksCommand(program);

await program.parseAsync(process.argv);
