"""Celery app for dbbeat's tests: tasks that record each execution.

Environment:
  DBBEAT_TEST_BROKER_URL  broker the worker consumes from (required)
  DBBEAT_TEST_RECORD_FILE file that gets one JSON line per execution (required)
"""
import json
import os
import threading
import time

from celery import Celery

app = Celery('dbbeat_test_tasks', broker=os.environ['DBBEAT_TEST_BROKER_URL'])
app.conf.update(
    accept_content=['json'],
    task_serializer='json',
    result_backend=None,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    # Tests delete their queues; the worker must not keep them alive.
    task_create_missing_queues=True,
)

_lock = threading.Lock()


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
        'expires': request.expires,
        'received_at': time.time(),
    }
    line = json.dumps(entry, ensure_ascii=False)
    with _lock, open(os.environ['DBBEAT_TEST_RECORD_FILE'], 'a', encoding='utf-8') as out:
        out.write(line + '\n')


@app.task(name='dbbeat_test.record', bind=True)
def record(self, *args, **kwargs):
    _record(self.request, self.name, args, kwargs)


@app.task(name='dbbeat_test.other', bind=True)
def other(self, *args, **kwargs):
    _record(self.request, 'dbbeat_test.other', args, kwargs)
