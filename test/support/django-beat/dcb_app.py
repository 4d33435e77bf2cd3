"""The real django-celery-beat (Debian's 2.4) as a beat for dbbeat's differential test.

Run: python3 -m celery -A dcb_app beat -S django_celery_beat.schedulers:DatabaseScheduler
Environment:
  DBBEAT_DJANGO_DATABASE_URL  the database (see test/django/dbbeat_django_settings.py)
  DBBEAT_DIFF_BROKER          the broker beat sends to
  CELERY_TASK_ROUTES          optional, task_routes as JSON (as dbbeat reads it)
  CELERY_TIMEZONE             optional
"""
import json
import os

import django

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'dbbeat_django_settings')
django.setup()

from celery import Celery  # noqa: E402

app = Celery('dcb_app', broker=os.environ['DBBEAT_DIFF_BROKER'])
app.conf.update(
    beat_max_loop_interval=1,
    task_routes=json.loads(os.environ.get('CELERY_TASK_ROUTES') or 'null'),
    timezone=os.environ.get('CELERY_TIMEZONE') or 'UTC',
    # No result backend: nothing to clean up, so beat adds no backend_cleanup task.
    result_backend=None,
    result_expires=None,
)
