import type { BeatStore } from '../db/store.js';
import { describeObject, missingObjects, type SchemaObjectStatus } from '../db/schema-objects.js';
import type { Logger } from './logger.js';

/** Re-applies the migrations that create missing objects; what it repaired and what is still missing. */
export type SchemaRepair = () => Promise<{ repaired: SchemaObjectStatus[]; missing: SchemaObjectStatus[] }>;

/**
 * Checks that dbbeat's own tables, triggers and functions are there (at start, every
 * --schema-check-interval, and after a failed step). Drift is logged once per distinct
 * set of missing objects. A beat allowed to migrate repairs it at once; otherwise, when
 * an object it cannot work without is gone, the beat must not lead (it would hold the
 * lease and send nothing, so no healthy standby could take over).
 */
export class SchemaWatch {
  private reported = '';

  constructor(
    private readonly store: Pick<BeatStore, 'inspectSchema'>,
    private readonly log: Logger,
    private readonly repair: SchemaRepair | undefined,
  ) {}

  /**
   * Checks (and repairs when allowed). `usable` is false when the beat cannot work;
   * `repaired` is true when objects were created again (the change log may be new).
   */
  async check(): Promise<{ usable: boolean; repaired: boolean }> {
    let missing = missingObjects(await this.store.inspectSchema());
    if (missing.length === 0) {
      if (this.reported !== '') this.log.info('schema check: every dbbeat object is present again');
      this.reported = '';
      return { usable: true, repaired: false };
    }
    let repaired = false;
    const text = missing
      .map((object) => `${describeObject(object)}${object.detail ? ` (${object.detail})` : ''}`)
      .join(', ');
    if (text !== this.reported) {
      this.reported = text;
      this.log.error(
        { missing: missing.map(describeObject) },
        `schema drift: missing ${text}` + (this.repair ? '; repairing it' : "; run 'dbbeat migrate' to repair it"),
      );
    }
    if (this.repair) {
      try {
        const result = await this.repair();
        if (result.repaired.length > 0) {
          repaired = true;
          this.log.warn(
            { repaired: result.repaired.map(describeObject) },
            `schema repaired: ${result.repaired.map(describeObject).join(', ')}`,
          );
        }
        missing = result.missing;
        if (missing.length === 0) this.reported = '';
      } catch (error) {
        this.log.error({ err: error }, `could not repair the schema: ${(error as Error).message}`);
      }
    }
    return { usable: !missing.some((object) => object.essential), repaired };
  }
}
