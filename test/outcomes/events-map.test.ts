// Celery task events as run outcomes: the fields Celery's worker sends (celery/worker/
// strategy.py, celery/worker/request.py, celery/events/dispatcher.py) mapped to
// OutcomeUpdate; exception type and message out of the repr and traceback; kombu's Redis
// envelope. The same against a real worker: events.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { eventsOfBody, outcomeOfEvent, parseException } from '../../src/outcomes/events.js';
import { envelopeBody, redisEventPattern } from '../../src/outcomes/events-redis.js';

const base = { uuid: 'id-1', hostname: 'celery@w1', timestamp: 1764504000.25, utcoffset: -1, pid: 7, clock: 3 };

describe('Celery task events as outcomes', () => {
  test('each task event type maps to its state, times in epoch ms from `timestamp`', () => {
    const at = 1764504000250;
    assert.deepEqual(outcomeOfEvent({ ...base, type: 'task-received', name: 'x', args: '()', retries: 0 }), {
      taskId: 'id-1',
      at,
      worker: 'celery@w1',
      state: 'RECEIVED',
      receivedAt: at,
    });
    assert.deepEqual(outcomeOfEvent({ ...base, type: 'task-started' }), {
      taskId: 'id-1',
      at,
      worker: 'celery@w1',
      state: 'STARTED',
      startedAt: at,
    });
    assert.deepEqual(outcomeOfEvent({ ...base, type: 'task-succeeded', result: "{'a': 1}", runtime: 0.0123 }), {
      taskId: 'id-1',
      at,
      worker: 'celery@w1',
      state: 'SUCCESS',
      finishedAt: at,
      runtime: 0.0123,
      result: "{'a': 1}",
    });
    const traceback = 'Traceback (most recent call last):\n  File "t.py", line 1, in f\nValueError: boom\n';
    assert.deepEqual(outcomeOfEvent({ ...base, type: 'task-failed', exception: "ValueError('boom')", traceback }), {
      taskId: 'id-1',
      at,
      worker: 'celery@w1',
      state: 'FAILURE',
      finishedAt: at,
      exceptionType: 'ValueError',
      exceptionMessage: 'boom',
      traceback,
    });
    const retried = outcomeOfEvent({ ...base, type: 'task-retried', exception: "KeyError('first')", traceback: 'tb' });
    assert.deepEqual(
      [retried?.state, retried?.exceptionType, retried?.exceptionMessage, retried?.finishedAt],
      ['RETRY', 'KeyError', 'first', undefined],
    );
    const revoked = (fields: object) => outcomeOfEvent({ ...base, type: 'task-revoked', ...fields });
    assert.deepEqual(
      [
        revoked({ terminated: false, signum: null, expired: false }),
        revoked({ terminated: true, signum: 15, expired: false }),
        revoked({ terminated: false, signum: null, expired: true }),
      ].map((u) => [u?.state, u?.exceptionType, u?.exceptionMessage]),
      [
        ['REVOKED', 'TaskRevokedError', 'revoked'],
        ['REVOKED', 'TaskRevokedError', 'terminated'],
        ['REVOKED', 'TaskRevokedError', 'expired'],
      ],
    );
    assert.equal(outcomeOfEvent({ ...base, type: 'task-rejected', requeue: false })?.state, 'REJECTED');
  });

  test('events that are no outcome of a run are left out', () => {
    assert.equal(outcomeOfEvent({ ...base, type: 'task-rejected', requeue: true }), undefined, 'requeued: runs again');
    assert.equal(outcomeOfEvent({ ...base, type: 'task-sent' }), undefined);
    assert.equal(outcomeOfEvent({ ...base, type: 'worker-heartbeat' }), undefined);
    assert.equal(outcomeOfEvent({ type: 'task-started', timestamp: 1 }), undefined, 'no task id');
    assert.equal(outcomeOfEvent({ type: 'task-started', uuid: 'x' }), undefined, 'no timestamp');
  });

  test('a message body is one event or a list of them (buffered task events)', () => {
    assert.deepEqual(eventsOfBody({ type: 'task-started', uuid: 'a' }), [{ type: 'task-started', uuid: 'a' }]);
    assert.deepEqual(
      eventsOfBody([{ type: 'task-received', uuid: 'a' }, 'junk', null, { type: 'task-started', uuid: 'a' }]).map(
        (e) => e.type,
      ),
      ['task-received', 'task-started'],
    );
    assert.deepEqual(eventsOfBody('text'), []);
  });

  test('exception type and message from the repr and the traceback', () => {
    assert.deepEqual(parseException("ValueError('boom')", undefined), { type: 'ValueError', message: 'boom' });
    assert.deepEqual(parseException('KeyError("it\'s")', undefined), { type: 'KeyError', message: "it's" });
    assert.deepEqual(parseException("OSError(2, 'No such file')", undefined), {
      type: 'OSError',
      message: "2, 'No such file'",
    });
    assert.deepEqual(parseException('ZeroDivisionError()', undefined), { type: 'ZeroDivisionError', message: '' });
    assert.deepEqual(parseException('not a repr', undefined), { type: undefined, message: 'not a repr' });
    assert.deepEqual(parseException(undefined, undefined), { type: undefined, message: undefined });
    // The traceback's last line carries str(exc), module-qualified, possibly over several lines.
    const tb = [
      'Traceback (most recent call last):',
      '  File "/app/tasks.py", line 9, in run',
      "    raise DbError('a\\nb')",
      'proj.tasks.DbError: a',
      'b',
      '',
    ].join('\n');
    assert.deepEqual(parseException("DbError('a\\nb')", tb), { type: 'DbError', message: 'a\nb' });
    // Celery 5.2's task-failed: the repr of billiard's wrapper; the traceback tells (caret lines skipped).
    const celery52 = [
      'Traceback (most recent call last):',
      '  File "/usr/lib/python3/dist-packages/celery/app/trace.py", line 451, in trace_task',
      '    R = retval = fun(*args, **kwargs)',
      '                 ^^^^^^^^^^^^^^^^^^^^',
      '  File "/app/dbbeat_test_tasks.py", line 113, in outcome_fail',
      "    raise DbbeatTestError('failed on purpose: %r' % (list(args),))",
      'dbbeat_test_tasks.DbbeatTestError: failed on purpose: [7]',
      '',
    ].join('\n');
    assert.deepEqual(parseException('ExceptionWithTraceback()', celery52), {
      type: 'DbbeatTestError',
      message: 'failed on purpose: [7]',
    });
    assert.deepEqual(parseException(undefined, '  File "x", line 1\n    f()\nZeroDivisionError'), {
      type: 'ZeroDivisionError',
      message: '',
    });
    // Chained exceptions: the last one is the task's.
    const chained =
      'Traceback…\n  File "a", line 1\n    x\nKeyError: 1\n\nDuring handling…\n\nTraceback…\n  File "a", line 2\n    y\nValueError: outer\n';
    assert.deepEqual(parseException("ValueError('outer')", chained), { type: 'ValueError', message: 'outer' });
  });

  test("kombu's Redis envelope: base64 body, and the channel pattern per database", () => {
    const body = JSON.stringify({ type: 'task-started', uuid: 'u' });
    const envelope = JSON.stringify({
      body: Buffer.from(body).toString('base64'),
      'content-encoding': 'utf-8',
      'content-type': 'application/json',
      headers: { hostname: 'celery@w1' },
      properties: { delivery_info: { exchange: 'celeryev', routing_key: 'task.started' }, body_encoding: 'base64' },
    });
    assert.deepEqual(envelopeBody(envelope), { text: body, contentType: 'application/json' });
    assert.equal(envelopeBody('not json'), undefined);
    assert.equal(redisEventPattern(0, 'celeryev'), '/0.celeryev/task.*');
    assert.equal(redisEventPattern(3, 'myev'), '/3.myev/task.*');
  });
});
