import type { Command } from 'commander';

/** `dbbeat next`: preview the run times of a schedule. (Being written.) */
export function registerNextCommand(program: Command): void {
  program.command('next').description('preview run times of a schedule');
}
