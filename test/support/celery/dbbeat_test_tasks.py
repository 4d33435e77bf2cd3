"""Celery app for dbbeat's tests: tasks that record each execution.

Environment:
  DBBEAT_TEST_BROKER_URL  broker the worker consumes from (required)
  DBBEAT_TEST_RECORD_FILE file that gets one JSON line per execution (required)
  DBBEAT_TEST_CONTROL_EXCHANGE Celery's control_exchange (default 'celery'): remote-control
                          tests give each worker its own pidbox on a shared RabbitMQ
  DBBEAT_TEST_RESULT_BACKEND  optional result_backend (redis://…, db+postgresql://…, or
                          django-db with DBBEAT_TEST_RESULTS_DB_URL, see dbbeat_results_settings.py)
  DBBEAT_TEST_RESULT_EXTENDED  "1": result_extended (worker, task name … in the backend)
  DBBEAT_TEST_EVENT_EXCHANGE Celery's event_exchange (optional; default celeryev)
"""
import json
import os
import threading
import time

from celery import Celery

_result_backend = os.environ.get('DBBEAT_TEST_RESULT_BACKEND') or None
if _result_backend == 'django-db':
    import django

    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'dbbeat_results_settings')
    django.setup()

app = Celery('dbbeat_test_tasks', broker=os.environ['DBBEAT_TEST_BROKER_URL'])
app.conf.update(
    accept_content=['json'],
    task_serializer='json',
    result_backend=_result_backend,
    task_ignore_result=_result_backend is None,
    result_extended=os.environ.get('DBBEAT_TEST_RESULT_EXTENDED') == '1',
    broker_connection_retry_on_startup=True,
    # Tests delete their queues; the worker must not keep them alive.
    task_create_missing_queues=True,
    control_exchange=os.environ.get('DBBEAT_TEST_CONTROL_EXCHANGE') or 'celery',
)
if os.environ.get('DBBEAT_TEST_EVENT_EXCHANGE'):
    app.conf.event_exchange = os.environ['DBBEAT_TEST_EVENT_EXCHANGE']

_lock = threading.Lock()


def typed(v):
    """A value as [type, value] pairs, so a test sees the Python types the worker got."""
    if v is None:
        return ['None']
    if isinstance(v, bool):
        return ['bool', v]
    if isinstance(v, int):
        return ['int', str(v)]
    if isinstance(v, float):
        return ['float', repr(v)]
    if isinstance(v, str):
        return ['str', v]
    if isinstance(v, (list, tuple)):
        return ['list', [typed(x) for x in v]]
    if isinstance(v, dict):
        return ['dict', [[k, typed(x)] for k, x in v.items()]]
    return [type(v).__name__, repr(v)]


def _record(request, name, args, kwargs):
    delivery_info = request.delivery_info or {}
    entry = {
        'id': request.id,
        'task': name,
        'args': list(args),
        'kwargs': kwargs,
        'routing_key': delivery_info.get('routing_key'),
        'exchange': delivery_info.get('exchange'),
        'priority': delivery_info.get('priority'),
        'periodic_task_name': getattr(request, 'periodic_task_name', None),
        'dbbeat_scheduled_at': getattr(request, 'dbbeat_scheduled_at', None),
        'dbbeat_manual_run': getattr(request, 'dbbeat_manual_run', None),
        'eta': request.eta,
        'expires': request.expires,
        'received_at': time.time(),
        # Python's own view of what arrived: types, repr, Celery's saferepr headers,
        # and the row's headers whose names start with x_.
        'typed': typed([list(args), kwargs]),
        'repr': repr((args, kwargs)),
        'argsrepr': getattr(request, 'argsrepr', None),
        'kwargsrepr': getattr(request, 'kwargsrepr', None),
        'typed_headers': typed({k: v for k, v in vars(request).items() if k.startswith('x_')}),
    }
    try:
        line = json.dumps(entry, ensure_ascii=False, allow_nan=False)
    except ValueError:
        # NaN/Infinity have no JSON.parse form: 'typed' and 'repr' carry them.
        entry['args'] = entry['kwargs'] = None
        line = json.dumps(entry, ensure_ascii=False, allow_nan=False)
    with _lock, open(os.environ['DBBEAT_TEST_RECORD_FILE'], 'a', encoding='utf-8') as out:
        out.write(line + '\n')


@app.task(name='dbbeat_test.record', bind=True)
def record(self, *args, **kwargs):
    _record(self.request, self.name, args, kwargs)


@app.task(name='dbbeat_test.other', bind=True)
def other(self, *args, **kwargs):
    _record(self.request, 'dbbeat_test.other', args, kwargs)


@app.task(name='dbbeat_test.result_add', bind=True)
def result_add(self, x, y):
    """Returns x + y (for the result backend tests)."""
    _record(self.request, self.name, (x, y), {})
    return {'sum': x + y, 'big': 2 ** 64}


@app.task(name='dbbeat_test.result_fail', bind=True)
def result_fail(self, message):
    """Raises ValueError(message) (for the result backend tests)."""
    _record(self.request, self.name, (message,), {})
    raise ValueError(message)


# Outcomes (task events): one task per outcome a run can have.


@app.task(name='dbbeat_test.outcome_ok', bind=True)
def outcome_ok(self, *args, **kwargs):
    """Succeeds; its result is a dict (the event carries its repr)."""
    _record(self.request, self.name, args, kwargs)
    time.sleep(0.05)
    return {'sum': sum(args), 'who': 'outcome_ok'}


class DbbeatTestError(Exception):
    """An exception of the tasks module's own (its repr and traceback name it with the module)."""


@app.task(name='dbbeat_test.outcome_fail', bind=True)
def outcome_fail(self, *args, **kwargs):
    """Raises DbbeatTestError with a message that names the arguments."""
    _record(self.request, self.name, args, kwargs)
    raise DbbeatTestError('failed on purpose: %r' % (list(args),))


@app.task(name='dbbeat_test.outcome_retry', bind=True, max_retries=3)
def outcome_retry(self, *args, **kwargs):
    """Retries once (the same task id, 0.2 s later), then succeeds."""
    _record(self.request, self.name, args, kwargs)
    if self.request.retries == 0:
        raise self.retry(exc=KeyError('first attempt'), countdown=0.2)
    return 'retried %d time(s)' % self.request.retries


@app.task(name='dbbeat_test.outcome_sleep', bind=True)
def outcome_sleep(self, seconds=1.0, *args, **kwargs):
    """Sleeps, then succeeds."""
    _record(self.request, self.name, [seconds, *args], kwargs)
    time.sleep(seconds)
    return seconds
