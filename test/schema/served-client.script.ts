// Run by pglite-serve.test.ts in a separate process: opens the data folder given as
// argv[2] through openDatabase() and performs argv[3] ('insert' or 'open').
import { openDatabase } from '../../src/db/open.js';

const [dataDir, action] = process.argv.slice(2);
try {
  const db = await openDatabase({ dataDir: dataDir! });
  console.log(db.description);
  if (action === 'insert') {
    const [row] = await db.query<{ id: number }>(
      "INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (42, 'minutes') RETURNING id",
    );
    console.log(`inserted ${row!.id}`);
  }
  await db.close();
} catch (error) {
  console.error(`${(error as Error).name}: ${(error as Error).message}`);
  process.exitCode = 2;
}
