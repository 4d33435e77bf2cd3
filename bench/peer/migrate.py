"""Creates django-celery-beat's tables in BENCH_PEER_DB (Django's migrate)."""
import os
import sys

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'settings')

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

call_command('migrate', verbosity=0, interactive=False)
sys.stdout.write('migrated\n')
