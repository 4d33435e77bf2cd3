// The MySQL Prisma schema (prisma/mysql/schema.prisma) against the tables that
// migrations/mysql makes, column by column, and against the PostgreSQL schema: the same
// models and fields, only the @db types differ.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';

import { migrate } from '../../src/db/migrate.js';
import { MysqlDatabase } from '../../src/db/mysql/connection.js';
import { createTempMysqlDatabase, type TempMysqlDatabase } from '../support/mysql.js';

interface Field {
  model: string;
  field: string;
  table: string;
  column: string;
  scalar: string;
  optional: boolean;
  native: string | undefined;
}

function fieldsOf(schema: string): Field[] {
  const models = new Set([...schema.matchAll(/^model (\w+) \{/gm)].map((match) => match[1]!));
  const fields: Field[] = [];
  for (const block of schema.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)) {
    const table = /@@map\("([^"]+)"\)/.exec(block[2]!)?.[1] ?? block[1]!;
    for (const line of block[2]!.split('\n')) {
      const match = /^\s+(\w+)\s+(\w+)(\[\])?(\?)?(.*)$/.exec(line);
      if (match === null || match[3] !== undefined || models.has(match[2]!)) continue;
      const rest = match[5] ?? '';
      fields.push({
        model: block[1]!,
        field: match[1]!,
        table,
        column: /@map\("([^"]+)"\)/.exec(rest)?.[1] ?? match[1]!,
        scalar: match[2]!,
        optional: match[4] !== undefined,
        native: /@db\.(\w+(?:\([^)]*\))?)/.exec(rest)?.[1],
      });
    }
  }
  return fields;
}

/** MySQL's COLUMN_TYPE for a Prisma field of the MySQL schema. */
function mysqlType(field: Field): string {
  switch (field.native?.replace(/\s/g, '')) {
    case undefined:
      return (
        { Int: 'int(11)', Boolean: 'tinyint(1)', String: 'varchar(191)', DateTime: 'datetime(3)' }[field.scalar] ??
        field.scalar
      );
    case 'LongText':
      return 'longtext';
    case 'UnsignedInt':
      return 'int(10) unsigned';
    case 'SmallInt':
      return 'smallint(6)';
    default:
      return field
        .native!.replace(/^VarChar/, 'varchar')
        .replace(/^DateTime/, 'datetime')
        .replace(/^Decimal/, 'decimal')
        .replace(/\s/g, '');
  }
}

let temp: TempMysqlDatabase;
let db: MysqlDatabase;
before(async () => {
  temp = await createTempMysqlDatabase('dbbeat_mysql_drift');
  db = new MysqlDatabase({ url: temp.url });
  await migrate(db);
});
after(async () => {
  await db.close();
  await temp.drop();
});

test('every field of the MySQL Prisma schema is a column of that type and nullability, and every column is a field', async () => {
  const fields = fieldsOf(await readFile(new URL('../../prisma/mysql/schema.prisma', import.meta.url), 'utf8'));
  const columns = await db.query<{ TABLE_NAME: string; COLUMN_NAME: string; COLUMN_TYPE: string; IS_NULLABLE: string }>(
    `SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'django\\_celery\\_beat\\_%' ORDER BY TABLE_NAME, ORDINAL_POSITION`,
  );
  const actual = columns
    .map((c) => `${c.TABLE_NAME}.${c.COLUMN_NAME} ${c.COLUMN_TYPE}${c.IS_NULLABLE === 'YES' ? ' NULL' : ''}`)
    .sort();
  const expected = fields.map((f) => `${f.table}.${f.column} ${mysqlType(f)}${f.optional ? ' NULL' : ''}`).sort();
  assert.deepEqual(expected, actual);
});

test("the MySQL schema has the PostgreSQL schema's models and fields, only the @db types differ", async () => {
  const strip = (fields: Field[]) => fields.map(({ native: _native, ...rest }) => rest);
  const mysql = fieldsOf(await readFile(new URL('../../prisma/mysql/schema.prisma', import.meta.url), 'utf8'));
  const postgres = fieldsOf(await readFile(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8'));
  assert.deepEqual(strip(mysql), strip(postgres));
});
