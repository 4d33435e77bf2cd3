// RunStore on PostgreSQL and PGlite: the statements of run-statements.ts.
import type { Database } from '../database.js';
import type { RunStore } from '../run-store.js';
import { PRUNE_RUNS } from './run-statements.js';

export class PostgresRunStore implements RunStore {
  constructor(private readonly db: Pick<Database, 'query'>) {}

  async pruneRuns(keepDays: number, maxRows: number, limit: number): Promise<number> {
    const [row] = await this.db.query<{ deleted: number }>(PRUNE_RUNS, [keepDays, maxRows, limit]);
    return row?.deleted ?? 0;
  }
}
