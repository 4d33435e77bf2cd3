"""Django ORM writes of public bug reports, for test/django/replays.test.ts.

Usage (DBBEAT_DJANGO_DATABASE_URL names the database; each step is one ORM call):
  django_replays.py crontab NAME MINUTE HOUR   edit the task's CrontabSchedule row and save() it
                                               (the task row itself is not saved)
  django_replays.py bulk NAME true|false       PeriodicTask.objects.filter(name=NAME).update(enabled=…)
                                               (a queryset update: no save(), no PeriodicTasks.changed())
  django_replays.py row NAME                   print last_run_at, total_run_count, enabled as JSON
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dbbeat_django_settings")

import django  # noqa: E402

django.setup()

from django_celery_beat.models import PeriodicTask  # noqa: E402


def main(command, name, *rest):
    if command == "crontab":
        crontab = PeriodicTask.objects.get(name=name).crontab
        crontab.minute, crontab.hour = rest
        crontab.save()
    elif command == "bulk":
        PeriodicTask.objects.filter(name=name).update(enabled=rest[0] == "true")
    elif command == "row":
        task = PeriodicTask.objects.get(name=name)
        print(json.dumps({
            "last_run_at": task.last_run_at.isoformat() if task.last_run_at else None,
            "total_run_count": task.total_run_count,
            "enabled": task.enabled,
        }))
    else:
        raise SystemExit(f"unknown command {command}")


main(*sys.argv[1:])
