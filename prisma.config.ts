// Prisma's CLI reads this file. dbbeat only uses `prisma generate`: tables are made by
// the SQL files in migrations/ (see src/schema/migrate.ts), never by `prisma migrate`.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
});
