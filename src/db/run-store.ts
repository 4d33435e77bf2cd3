// What run history (dbbeat_run) asks of a database beyond the beat's own write (which is
// BeatStore.recordRuns, under the lease's fence): retention, outcomes, reading. One
// implementation per dialect folder, the same statement names in each.

export interface RunStore {
  /**
   * Deletes up to `limit` rows sent more than `keepDays` days ago or beyond the newest
   * `maxRows`, oldest first. Returns how many went: call again while it equals `limit`.
   */
  pruneRuns(keepDays: number, maxRows: number, limit: number): Promise<number>;
}
