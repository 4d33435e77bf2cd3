// RunStore on MySQL / MariaDB: the statements of run-statements.ts.
import type { RunStore } from '../run-store.js';
import type { MysqlDatabase } from './connection.js';
import { PRUNE_RUNS, RUN_CAP_ID } from './run-statements.js';

export class MysqlRunStore implements RunStore {
  constructor(private readonly db: MysqlDatabase) {}

  async pruneRuns(keepDays: number, maxRows: number, limit: number): Promise<number> {
    const [cap] = await this.db.query<{ id: number | string }>(RUN_CAP_ID, [maxRows]);
    return this.db.execute(PRUNE_RUNS, [Math.round(keepDays * 86_400), cap === undefined ? 0 : Number(cap.id), limit]);
  }
}
