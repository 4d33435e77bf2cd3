"""Drives django-celery-beat's ORM for dbbeat's interop tests.

Usage (DBBEAT_DJANGO_DATABASE_URL names the database):
  django_interop.py seed          create a few schedules and tasks, print their ids as JSON
  django_interop.py create_all    create one task per schedule type, print them as JSON
  django_interop.py read NAME...  print the named tasks as JSON
"""
import json
import os
import sys
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dbbeat_django_settings")

import django  # noqa: E402

django.setup()

from django_celery_beat.models import (  # noqa: E402
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    PeriodicTasks,
    SolarSchedule,
)


def describe(task):
    schedule = task.interval or task.crontab or task.solar or task.clocked
    return {
        "id": task.id,
        "name": task.name,
        "task": task.task,
        "args": task.args,
        "kwargs": task.kwargs,
        "enabled": task.enabled,
        "one_off": task.one_off,
        "schedule_type": type(schedule).__name__,
        "schedule_id": schedule.id,
        "schedule": str(schedule),
        "timezone": str(task.crontab.timezone) if task.crontab else None,
    }


def seed(prefix):
    every_ten = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.SECONDS)
    nightly = CrontabSchedule.objects.create(minute="30", hour="2", timezone="America/New_York")
    first = PeriodicTask.objects.create(
        name=f"{prefix}-interval", task="proj.tasks.add", interval=every_ten, args=json.dumps([2, 2])
    )
    second = PeriodicTask.objects.create(
        name=f"{prefix}-crontab", task="proj.tasks.report", crontab=nightly, kwargs=json.dumps({"to": "ops"})
    )
    PeriodicTasks.changed(first)
    return [describe(first), describe(second)]


def create_all(prefix):
    every_minute = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.MINUTES)
    paris = CrontabSchedule.objects.create(minute="0", hour="4", day_of_week="mon-fri", timezone="Europe/Paris")
    sunrise = SolarSchedule.objects.create(event="sunrise", latitude=48.8566, longitude=2.3522)
    once = ClockedSchedule.objects.create(clocked_time=datetime.now(timezone.utc) + timedelta(hours=1))
    tasks = [
        PeriodicTask.objects.create(name=f"{prefix}-interval", task="proj.tasks.tick", interval=every_minute),
        PeriodicTask.objects.create(
            name=f"{prefix}-crontab", task="proj.tasks.report", crontab=paris, args=json.dumps(["weekly"])
        ),
        PeriodicTask.objects.create(name=f"{prefix}-solar", task="proj.tasks.lights", solar=sunrise),
        PeriodicTask.objects.create(
            name=f"{prefix}-clocked", task="proj.tasks.launch", clocked=once, one_off=True,
            kwargs=json.dumps({"rocket": 1}),
        ),
    ]
    return [describe(PeriodicTask.objects.get(pk=task.pk)) for task in tasks]


def read(names):
    return [describe(task) for task in PeriodicTask.objects.filter(name__in=names).order_by("name")]


if __name__ == "__main__":
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "seed":
        result = seed(rest[0])
    elif command == "create_all":
        result = create_all(rest[0])
    elif command == "read":
        result = read(rest)
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(result))
