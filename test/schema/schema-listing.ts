// A stable, readable listing of the migrated schema (tables, columns, constraints,
// indexes, triggers, functions), for the committed snapshot test/fixtures/schema.sql.
import type { Database } from '../../src/db/database.js';

const OURS = "(c.relname LIKE 'django_celery_beat_%' OR c.relname LIKE 'dbbeat_%')";

/** Lists the schema of django-celery-beat's and dbbeat's tables in `public`, sorted. */
export async function describeSchema(db: Pick<Database, 'query'>): Promise<string> {
  const lines: string[] = [];
  const columns = await db.query<{
    table: string;
    column: string;
    type: string;
    not_null: boolean;
    default: string | null;
  }>(
    `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND ${OURS}
      ORDER BY c.relname, a.attnum`,
  );
  let currentTable = '';
  for (const column of columns) {
    if (column.table !== currentTable) {
      currentTable = column.table;
      lines.push(`TABLE ${currentTable}`);
    }
    const nullability = column.not_null ? ' NOT NULL' : '';
    const fallback = column.default === null ? '' : ` DEFAULT ${column.default}`;
    lines.push(`  COLUMN ${column.column} ${column.type}${nullability}${fallback}`);
  }
  const constraints = await db.query<{ table: string; name: string; definition: string }>(
    `SELECT c.relname AS table, con.conname AS name, pg_get_constraintdef(con.oid) AS definition
       FROM pg_constraint con
       JOIN pg_class c ON c.oid = con.conrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      WHERE ${OURS} AND con.contype <> 'n'
      ORDER BY c.relname, con.conname`,
  );
  for (const constraint of constraints)
    lines.push(`CONSTRAINT ${constraint.table}.${constraint.name} ${constraint.definition}`);
  const indexes = await db.query<{ definition: string }>(
    `SELECT pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
       JOIN pg_class ic ON ic.oid = i.indexrelid
      WHERE ${OURS}
      ORDER BY ic.relname`,
  );
  for (const index of indexes) lines.push(`INDEX ${index.definition}`);
  const triggers = await db.query<{ definition: string }>(
    `SELECT pg_get_triggerdef(t.oid) AS definition
       FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      WHERE NOT t.tgisinternal AND ${OURS}
      ORDER BY c.relname, t.tgname`,
  );
  for (const trigger of triggers) lines.push(`TRIGGER ${trigger.definition}`);
  const functions = await db.query<{ signature: string }>(
    `SELECT p.oid::regprocedure::text AS signature
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace AND n.nspname = 'public'
      WHERE p.proname LIKE 'dbbeat_%'
      ORDER BY 1`,
  );
  for (const fn of functions) lines.push(`FUNCTION ${fn.signature}`);
  return `${lines.join('\n')}\n`;
}
