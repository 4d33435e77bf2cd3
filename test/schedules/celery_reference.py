"""Answers schedule cases with the real Celery 5.2 and django-celery-beat, for the differential fuzzer.

Reads JSON lines `{"schedule": {...}, "after": "<ISO UTC>", "count": K}` (the conformance file's
form) on stdin and writes one JSON line per case:

  {"next": [...], "notes": [...]}   the next K runs, each from the previous as the last run
  {"error": "..."}                  Celery (or django-celery-beat's model) rejects the schedule

With --conformance, it writes lines of test/fixtures/celery-schedules.jsonl instead (the only
way to add cases to that file): cases crossing a DST change or where ephem hangs are refused.

  /usr/bin/python3 test/schedules/celery_reference.py --conformance < new.jsonl >> test/fixtures/celery-schedules.jsonl

A line `{"check": {event, latitude, longitude}, "at": [...]}` asks instead for the sun's altitude
at those instants (see check_crossings).

Each schedule is built through django-celery-beat's models (`CrontabSchedule(...).schedule` is a
TzAwareCrontab in the row's zone, `IntervalSchedule(...).schedule`, `SolarSchedule(...).schedule`,
`ClockedSchedule(...).schedule`), and asked with `now` = the last run, so an answer is "the first
run after the last run" as beat's `is_due` converges on it.

`notes` say where the answer is not Celery's raw arithmetic, and why:
  - "dst@i": run i's wall time does not exist or occurs twice in the zone, or the run before it
    lies in a repeated hour; runs from i on are left out (dbbeat follows Vixie cron there on purpose, docs/DESIGN.md §4).
  - "circumpolar@i": the event does not happen that day (polar day or night): ephem raised
    CircumpolarError, where Celery 5.2.6 crashes (TypeError adding a timedelta to an ephem.Date);
    the answer is the next real event, searched from a minute after each anti-transit.
  - "dusk18": dusk_astronomical asked at -18 deg (Celery 5.2 has +18, mended in Celery 5.6.3).
  - "rollover@i": Celery 5.2.6's day-of-month/month roll-over bug changed run i; the answer is
    upstream Celery's mended one (test/fixtures/README.md).
  - "hang@i": ephem's search for run i did not return within 5 s (it can loop forever near the
    poles, and Celery's beat with it); the runs stop there.
  - "rate@i=r": the sun's altitude changes by r degrees a minute at run i (not a difference:
    near-grazing crossings are slow, and the two ephemerides' small differences grow there).
  - "model-refuses": django-celery-beat's model refuses the interval row (every < 1, a period
    other than the five), though Celery runs it when raw SQL writes it.
  - "month-names": month names in month_of_year were given to Celery as numbers.
  - "overflow@i": Python could not represent run i (past year 9999); the runs stop there.
"""
import json
import re
import signal
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import django
from django.conf import settings
from django.core.exceptions import ValidationError

settings.configure(
    INSTALLED_APPS=["django_celery_beat"],
    USE_TZ=True,
    TIME_ZONE="UTC",
    DATABASES={},
    DJANGO_CELERY_BEAT_TZ_AWARE=True,
)
django.setup()

import ephem  # noqa: E402
from celery_solar import EPHEM_LIMIT_S, EphemHang, altitude_rate, on_alarm, solar_next  # noqa: E402
from django_celery_beat.models import (  # noqa: E402
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    SolarSchedule,
)

UTC = timezone.utc


def iso(moment):
    text = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return text


def parse_after(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def wall_problem(naive, zone):
    """'gap' or 'fold' when a wall time does not exist or occurs twice, else None."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        return "fold" if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive else "gap"
    return None


MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def month_numbers(text, notes):
    """Month names as numbers: django-celery-beat's validator accepts them, Celery 5.2 does not."""

    def number(match):
        word = match.group(0)
        if word[:3].lower() in MONTHS:
            if "month-names" not in notes:
                notes.append("month-names")
            return str(MONTHS.index(word[:3].lower()) + 1)
        return word

    return re.sub(r"[A-Za-z]+", number, text)


def mend_rollover(sched):
    """Celery 5.2.6's day-of-month/month roll-over, mended as upstream Celery mended it.

    5.2.6's `is_before_last_run` read the candidate day's midnight as UTC; upstream compares
    the candidate run time (day, next hour, next minute) read in the schedule's zone.
    """
    tz = sched.tz

    def delta_to_next(last_run_at, next_hour, next_minute):
        def aware(moment, *args, **kwargs):
            if moment.tzinfo is None:
                return moment.replace(hour=next_hour, minute=next_minute, tzinfo=tz)
            return type(sched).maybe_make_aware(sched, moment, *args, **kwargs)

        sched.maybe_make_aware = aware
        try:
            return type(sched)._delta_to_next(sched, last_run_at, next_hour, next_minute)
        finally:
            del sched.maybe_make_aware

    sched._delta_to_next = delta_to_next


def crontab_runs(fields, after, count, notes):
    zone_field = CrontabSchedule._meta.get_field("timezone")
    row = CrontabSchedule(
        minute=fields.get("minute", "*"),
        hour=fields.get("hour", "*"),
        day_of_week=fields.get("day_of_week", "*"),
        day_of_month=fields.get("day_of_month", "*"),
        month_of_year=month_numbers(fields.get("month_of_year", "*"), notes),
        # What the column reads back as from the database (a zoneinfo zone here).
        timezone=zone_field.to_python(fields.get("timezone", "UTC")),
    )
    sched = row.schedule
    zone = ZoneInfo(str(sched.tz))
    runs = []
    last = after
    for index in range(count):
        local_last = last.astimezone(sched.tz)
        if wall_problem(local_last.replace(tzinfo=None), zone) is not None:
            # The last run is inside a repeated hour: its second pass may hold runs (Vixie).
            notes.append(f"dst@{index}")
            break
        sched.nowfun = lambda: local_last
        start, delta, _now = sched.remaining_delta(local_last)
        raw_celery = start + delta
        mend_rollover(sched)
        try:
            start, delta, _now = sched.remaining_delta(local_last)
        finally:
            del sched._delta_to_next
        raw = start + delta
        if raw != raw_celery:
            notes.append(f"rollover@{index}")
        naive = raw.replace(tzinfo=None)
        if wall_problem(naive, zone) is not None:
            notes.append(f"dst@{index}")
            break
        run = raw.astimezone(UTC)
        runs.append(run)
        last = run
    return runs


def interval_runs(fields, after, count, notes):
    row = IntervalSchedule(every=fields["every"], period=fields["period"])
    try:
        row.clean_fields()
    except ValidationError:
        # every >= 1 and the five periods are the model's rules; raw SQL can still write such a row.
        notes.append("model-refuses")
    sched = row.schedule
    runs = []
    last = after
    for index in range(count):
        sched.nowfun = lambda: last
        try:
            run = last + sched.remaining_estimate(last)
        except OverflowError:
            notes.append(f"overflow@{index}")
            break
        runs.append(run)
        last = run
    return runs


def solar_runs(fields, after, count, notes):
    row = SolarSchedule(event=fields["event"], latitude=fields["latitude"], longitude=fields["longitude"])
    sched = row.schedule
    if sched.event == "dusk_astronomical":
        sched.cal.horizon = "-18"
        notes.append("dusk18")
    runs = []
    last = after
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(EPHEM_LIMIT_S)
    try:
        for index in range(count):
            run = solar_next(sched, last, index, notes)
            if run is None:
                break
            runs.append(run)
            last = run
    except EphemHang:
        notes.append(f"hang@{len(runs)}")
    finally:
        signal.alarm(0)
    notes.extend(f"rate@{index}={altitude_rate(sched, run):.6f}" for index, run in enumerate(runs))
    return runs


def clocked_runs(fields, after, count, notes):
    sched = ClockedSchedule(clocked_time=parse_after(fields["clocked_time"])).schedule
    sched.nowfun = lambda: after
    return [sched.clocked_time] if sched.clocked_time > after else []


RUNNERS = {
    "crontab": crontab_runs,
    "interval": interval_runs,
    "solar": solar_runs,
    "clocked": clocked_runs,
}


def check_crossings(fields, moments):
    """The sun's altitude (degrees; upper limb for sunrise/sunset, else centre) and its rate
    (degrees a minute) at each moment, by ephem, with the event's target altitude: confirms
    a time that ephem's own rise/set search skipped."""
    sched = SolarSchedule(event=fields["event"], latitude=fields["latitude"], longitude=fields["longitude"]).schedule
    target = -18.0 if sched.event == "dusk_astronomical" else float(sched.cal.horizon) * 180 / 3.141592653589793
    observer = ephem.Observer()
    observer.lat, observer.lon, observer.elev, observer.pressure = sched.cal.lat, sched.cal.lon, 0, 0
    altitudes = []
    for text in moments:
        moment = parse_after(text)
        observer.date = moment.replace(tzinfo=None)
        sun = ephem.Sun(observer)
        limb = 0.0 if sched.use_center else float(sun.radius)
        altitudes.append((float(sun.alt) + limb) * 180 / 3.141592653589793)
    rates = [altitude_rate(sched, parse_after(text)) for text in moments]
    return {"target": target, "altitudes": altitudes, "rates": rates}


def answer(case):
    if "check" in case:
        return check_crossings(case["check"], case["at"])
    ((kind, fields),) = case["schedule"].items()
    notes = []
    try:
        runs = RUNNERS[kind](fields, parse_after(case["after"]), case["count"], notes)
    except Exception as error:  # Celery's ValueError, ParseException, KeyError, TypeError...
        return {"error": f"{type(error).__name__}: {error}"}
    return {"next": [iso(run) for run in runs], "notes": notes}


REFUSED_IN_FIXTURE = ("dst@", "hang@", "overflow@")


def conformance_line(case):
    """The case as a line of test/fixtures/celery-schedules.jsonl, or None (told on stderr)."""
    reply = answer(case)
    notes = [note for note in reply.get("notes", []) if not note.startswith("rate@")]
    if any(note.startswith(REFUSED_IN_FIXTURE) for note in notes):
        print(f"refused ({', '.join(notes)}): {json.dumps(case)}", file=sys.stderr)
        return None
    if notes:
        print(f"documented differences ({', '.join(notes)}): {json.dumps(case)}", file=sys.stderr)
    celery = {"error": reply["error"]} if "error" in reply else {"next": reply["next"]}
    fields = {key: case[key] for key in ("schedule", "after", "count")}
    return json.dumps({**fields, "celery": celery})


def main():
    conformance = "--conformance" in sys.argv[1:]
    for line in sys.stdin:
        if line.strip():
            case = json.loads(line)
            text = conformance_line(case) if conformance else json.dumps(answer(case))
            if text is not None:
                sys.stdout.write(text + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
