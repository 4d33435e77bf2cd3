// dbbeat's own database objects as a list, so that the beat, `dbbeat migrate` and
// `dbbeat doctor` can check that they are all there (a dropped trigger means new rows are
// never noticed; a dropped change log makes every writer's UPDATE fail). Dialect-neutral:
// each dialect says which objects it expects and how to look them up.

/** One object a dialect's migrations create. */
export interface SchemaObject {
  kind: 'table' | 'function' | 'trigger' | 'row';
  name: string;
  /** The table a trigger is on, or whose row is meant. */
  table?: string;
  /** The migration file that creates it; re-applying that file repairs it. */
  migration: string;
  /**
   * The beat cannot work without it (it holds the lease and sends nothing, or writers
   * fail). Without the others it works, but no longer notices some changes.
   */
  essential: boolean;
}

/** What a check found for one object. */
export interface SchemaObjectStatus extends SchemaObject {
  present: boolean;
  /** Why it does not count as present when it exists (e.g. "disabled"). */
  detail?: string;
}

/** "trigger dbbeat_log_update on django_celery_beat_periodictask", "table dbbeat_change", … */
export function describeObject(object: SchemaObject): string {
  if (object.kind === 'trigger') return `trigger ${object.name} on ${object.table ?? '?'}`;
  if (object.kind === 'row') return `row of ${object.table ?? object.name}`;
  return `${object.kind} ${object.name}`;
}

/** The objects of `statuses` that are missing (or disabled). */
export function missingObjects(statuses: readonly SchemaObjectStatus[]): SchemaObjectStatus[] {
  return statuses.filter((status) => !status.present);
}
