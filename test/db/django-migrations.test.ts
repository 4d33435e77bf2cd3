// One list of django-celery-beat migration names for every dialect: each SQL
// migration that records them inserts exactly DJANGO_CELERY_BEAT_MIGRATIONS,
// in order; and the installed django-celery-beat knows them in that order.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

import { DJANGO_CELERY_BEAT_MIGRATIONS } from '../../src/db/django-migrations.js';

const FILES = ['../../migrations/0005_django_migrations.sql', '../../migrations/mysql/0004_django_migrations.sql'];

describe('django_migrations names', () => {
  for (const file of FILES) {
    test(`${file.replace('../../', '')} records exactly the shared list, in order`, async () => {
      const text = await readFile(new URL(file, import.meta.url), 'utf8');
      const names = [...text.matchAll(/'(\d{4}_[a-z0-9_]+)'/g)].map((match) => match[1]);
      assert.deepEqual(names, DJANGO_CELERY_BEAT_MIGRATIONS);
    });
  }

  test("the installed django-celery-beat's migrations, in Django's plan order, start the list", async () => {
    const script = `
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=['django_celery_beat'], DATABASES={})
django.setup()
from django.db.migrations.loader import MigrationLoader
loader = MigrationLoader(None, ignore_no_migrations=True)
leaves = [key for key in loader.graph.leaf_nodes() if key[0] == 'django_celery_beat']
plan = []
for leaf in leaves:
    for key in loader.graph.forwards_plan(leaf):
        if key[0] == 'django_celery_beat' and key[1] not in plan:
            plan.append(key[1])
print('\\n'.join(plan))
`;
    const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', script], { timeout: 60_000 });
    const plan = stdout.trim().split('\n');
    assert.ok(plan.length >= 18, stdout);
    assert.deepEqual(DJANGO_CELERY_BEAT_MIGRATIONS.slice(0, plan.length), plan);
  });
});
