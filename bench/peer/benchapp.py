"""The Celery app the django-celery-beat peer runs: `celery -A benchapp beat -S
django_celery_beat.schedulers:DatabaseScheduler`. Broker from BENCH_PEER_BROKER."""
import os

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'settings')

import django  # noqa: E402

django.setup()

from celery import Celery  # noqa: E402

app = Celery('benchapp', broker=os.environ['BENCH_PEER_BROKER'])
app.conf.timezone = 'UTC'
app.conf.enable_utc = True
