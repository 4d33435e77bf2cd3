"""Saves and reads a clocked task's times through Django's ORM, for dbbeat's naive-time tests.

Usage (settings from DJANGO_SETTINGS_MODULE, e.g. dbbeat_django_mysql_settings):
  django_times.py save NAME 'YYYY-MM-DD HH:MM:SS'   a one-off clocked task at that wall time in
                                                   TIME_ZONE (aware when USE_TZ, naive when not)
  django_times.py read NAME                          its clocked_time, last_run_at, start_time as
                                                   Django reads them (isoformat; naive ones bare)
"""
import json
import os
import sys
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_celery_beat.models import ClockedSchedule, PeriodicTask  # noqa: E402


def wall(text):
    naive = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    return timezone.make_aware(naive) if settings.USE_TZ else naive


def save(name, text):
    at = wall(text)
    clocked = ClockedSchedule.objects.create(clocked_time=at)
    task = PeriodicTask.objects.create(
        name=name, task="proj.tasks.launch", clocked=clocked, one_off=True, start_time=at
    )
    return {"id": task.id, "clocked_id": clocked.id}


def iso(value):
    return None if value is None else value.isoformat()


def read(name):
    task = PeriodicTask.objects.get(name=name)
    return {
        "clocked_time": iso(task.clocked.clocked_time),
        "last_run_at": iso(task.last_run_at),
        "start_time": iso(task.start_time),
        "total_run_count": task.total_run_count,
        "enabled": task.enabled,
    }


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    result = save(*rest) if command == "save" else read(*rest)
    print(json.dumps(result))
