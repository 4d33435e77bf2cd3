"""Solar searches for celery_reference.py: Celery 5.2's own `solar.remaining_estimate`, asked
again past polar days and nights (where Celery 5.2.6 itself crashes), with a time limit for
ephem, which can loop forever near the poles."""
from datetime import timedelta, timezone

import ephem

UTC = timezone.utc


class EphemHang(Exception):
    """ephem's rise/set search did not return (it loops forever at some places near the poles)."""


def on_alarm(_signum, _frame):
    raise EphemHang("ephem did not answer within the time limit")


EPHEM_LIMIT_S = 5


def solar_next(sched, last, index, notes):
    start = last
    for _ in range(800):
        probe = sched.cal
        probe.date = start
        try:
            if sched.use_center:
                getattr(probe, sched.method)(ephem.Sun(), start=start, use_center=True)
            else:
                getattr(probe, sched.method)(ephem.Sun(), start=start)
        except ephem.CircumpolarError:
            # Celery 5.2.6 means to check again a minute after the next anti-transit, but its
            # `ephem.Date + timedelta` raises TypeError: look from there for the next real event.
            if f"circumpolar@{index}" not in notes:
                notes.append(f"circumpolar@{index}")
            antitransit = probe.next_antitransit(ephem.Sun()).datetime().replace(tzinfo=UTC)
            start = antitransit + timedelta(minutes=1)
            continue
        sched.nowfun = lambda: start
        return start + sched.remaining_estimate(start)
    return None


def altitude_rate(sched, moment):
    """How fast (degrees a minute) the sun's altitude changes at `moment`: slow crossings are fragile."""
    observer = ephem.Observer()
    observer.lat, observer.lon, observer.elev, observer.pressure = sched.cal.lat, sched.cal.lon, 0, 0
    heights = []
    for minutes in (-1, 1):
        observer.date = moment.astimezone(UTC).replace(tzinfo=None) + timedelta(minutes=minutes)
        heights.append(float(ephem.Sun(observer).alt) * 180 / 3.141592653589793)
    return (heights[1] - heights[0]) / 2
