// The pure parts of reading a result backend: which URL names which store, pickles as
// Python writes them (made by the real /usr/bin/python3), and a stored meta as a run's outcome.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';

import { PyDict, dumpPyJson, parsePyJson } from '../../src/broker/pyjson.js';
import { OptionsError, resolveConfig } from '../../src/config.js';
import { ResultBackendUrlError, type TaskMeta, parseResultBackendUrl } from '../../src/outcomes/result-backend.js';
import { exceptionOf, outcomeFromMeta, parseDateDone } from '../../src/outcomes/result-backend-meta.js';
import { PickleUnsupportedError, readPickle } from '../../src/outcomes/result-backend-pickle.js';
import { resultRedisOptions } from '../../src/outcomes/result-backend-redis.js';

describe('result backend URLs', () => {
  test('Redis, SQLAlchemy (celery_taskmeta), Django (django-celery-results) and django-db', () => {
    assert.deepEqual(parseResultBackendUrl('redis://:pw@h:6380/2'), { kind: 'redis', url: 'redis://:pw@h:6380/2' });
    assert.equal(parseResultBackendUrl('rediss://h:6380/0?ssl_cert_reqs=CERT_NONE').kind, 'redis');
    assert.deepEqual(parseResultBackendUrl('db+postgresql://u:p@h/results'), {
      kind: 'sql',
      table: 'celery',
      dialect: 'postgres',
      url: 'postgres://u:p@h/results',
    });
    assert.deepEqual(parseResultBackendUrl('db+postgresql+psycopg2://h/r'), {
      kind: 'sql',
      table: 'celery',
      dialect: 'postgres',
      url: 'postgres://h/r',
    });
    assert.deepEqual(parseResultBackendUrl('db+mysql+mysqldb://root@h:3306/r'), {
      kind: 'sql',
      table: 'celery',
      dialect: 'mysql',
      url: 'mysql://root@h:3306/r',
    });
    assert.deepEqual(parseResultBackendUrl('postgresql://h/app'), {
      kind: 'sql',
      table: 'django',
      dialect: 'postgres',
      url: 'postgres://h/app',
    });
    assert.deepEqual(parseResultBackendUrl('mariadb://h/app'), {
      kind: 'sql',
      table: 'django',
      dialect: 'mysql',
      url: 'mysql://h/app',
    });
    assert.deepEqual(parseResultBackendUrl('django-db', 'postgres://h/app'), {
      kind: 'sql',
      table: 'django',
      dialect: 'postgres',
      url: 'postgres://h/app',
    });
  });

  test('what dbbeat cannot read is refused, the password never shown', () => {
    for (const url of [
      'rpc://',
      'amqp://guest:secret@h//',
      'db+sqlite:///results.db',
      'cache+memcached://h/',
      'mongodb://h',
    ]) {
      assert.throws(
        () => parseResultBackendUrl(url),
        (error: unknown) => {
          assert.ok(error instanceof ResultBackendUrlError);
          assert.doesNotMatch(error.message, /secret/);
          return true;
        },
      );
    }
    assert.throws(() => parseResultBackendUrl('django-db'), /no --database-url/);
    assert.throws(
      () => resolveConfig({ resultBackend: 'rpc://' }, {}),
      (error: unknown) => error instanceof OptionsError && /rpc:\/\//.test(error.message),
    );
  });

  test('resolveConfig: flag, then CELERY_RESULT_BACKEND; interval in seconds', () => {
    assert.equal(resolveConfig({}, {}).resultBackend, null);
    assert.deepEqual(resolveConfig({}, { CELERY_RESULT_BACKEND: 'redis://h/1' }).resultBackend, {
      url: 'redis://h/1',
      intervalMs: 5000,
    });
    assert.deepEqual(
      resolveConfig(
        { resultBackend: 'redis://h/2', resultBackendInterval: 0.5 },
        { CELERY_RESULT_BACKEND: 'redis://h/1' },
      ).resultBackend,
      { url: 'redis://h/2', intervalMs: 500 },
    );
    assert.throws(() => resolveConfig({ resultBackend: 'redis://h/2', resultBackendInterval: 0 }, {}), OptionsError);
  });

  test('Redis options as Celery reads the URL: database from the path, TLS and ssl_cert_reqs', () => {
    const plain = resultRedisOptions('redis://:pw@example:6390/4');
    assert.deepEqual(
      [plain.host, plain.port, plain.db, plain.password, plain.tls],
      ['example', 6390, 4, 'pw', undefined],
    );
    assert.equal(resultRedisOptions('redis://example').db, 0);
    assert.deepEqual(resultRedisOptions('rediss://example:6380/0?ssl_cert_reqs=CERT_NONE').tls, {
      rejectUnauthorized: false,
    });
    assert.deepEqual(resultRedisOptions('rediss://example:6380/0').tls, { rejectUnauthorized: true });
    assert.throws(() => resultRedisOptions('rediss://example/0?ssl_cert_reqs=MAYBE'), ResultBackendUrlError);
  });
});

/** pickle.dumps(eval(expression), protocol) by the real Python. */
function pickled(expression: string, protocol = 5): Buffer {
  const hex = execFileSync('/usr/bin/python3', [
    '-c',
    `import pickle, sys; sys.stdout.write(pickle.dumps(${expression}, protocol=${protocol}).hex())`,
  ]).toString();
  return Buffer.from(hex, 'hex');
}

describe('pickles of plain data', () => {
  test('read as Python wrote them, protocols 3 to 5 (2 without bytes, which it writes through a global)', () => {
    const expression =
      "{'sum': 5, 'big': 2**64, 'neg': -2**70, 'small': -3, 'f': 1.0, 'none': None, 't': True, 'l': [1, 'x', (2, 3)], 'u': 'é\\u4e2d', 'nested': {1: [None]}, 'b': b'ab'}";
    for (const protocol of [3, 4, 5]) {
      assert.equal(
        dumpPyJson(readPickle(pickled(expression, protocol))),
        '{"sum":5,"big":18446744073709551616,"neg":-1180591620717411303424,"small":-3,"f":1.0,"none":null,"t":true,"l":[1,"x",[2,3]],"u":"é中","nested":{"1":[null]},"b":"ab"}',
        `protocol ${protocol}`,
      );
    }
    assert.equal(dumpPyJson(readPickle(pickled("{'a': [1, (2,)], 'n': -300}", 2))), '{"a":[1,[2]],"n":-300}');
    // Memoized objects shared twice, and a long list (APPENDS in batches of 1000).
    assert.equal(dumpPyJson(readPickle(pickled("(lambda s: [s, s])(['a'])"))), '[["a"],["a"]]');
    assert.equal((readPickle(pickled('list(range(2500))')) as unknown[]).length, 2500);
  });

  test('Celery exceptions under the json serializer are plain dicts; a pickled exception object is not read', () => {
    const stored = readPickle(
      pickled("{'exc_type': 'ValueError', 'exc_message': ('boom',), 'exc_module': 'builtins'}"),
    );
    assert.ok(stored instanceof PyDict);
    assert.throws(() => readPickle(pickled("ValueError('boom')")), PickleUnsupportedError);
    assert.throws(() => readPickle(pickled("__import__('datetime').datetime(2030, 1, 1)")), PickleUnsupportedError);
    assert.throws(() => readPickle(pickled('[1, 2]').subarray(0, 8)), PickleUnsupportedError);
  });
});

const meta = (fields: Partial<TaskMeta> & { state: string }): TaskMeta => ({
  taskId: 't1',
  result: null,
  traceback: null,
  dateDone: null,
  worker: null,
  ...fields,
});

describe('a stored meta as a run outcome', () => {
  const NOW = Date.parse('2030-01-07T10:00:05Z');
  const DONE = Date.parse('2030-01-07T10:00:01.123Z');

  test('date_done: naive UTC as Celery writes it, or with an offset', () => {
    assert.equal(parseDateDone('2030-01-07T10:00:01.123456'), DONE);
    assert.equal(parseDateDone('2030-01-07T10:00:01.123456+00:00'), DONE);
    assert.equal(parseDateDone('2030-01-07 12:00:01.123+02:00'), DONE);
    assert.equal(parseDateDone('2030-01-07T10:00:01'), DONE - 123);
    assert.equal(parseDateDone(null), null);
    assert.equal(parseDateDone('yesterday'), null);
  });

  test('SUCCESS, FAILURE, RETRY, REVOKED, STARTED, PENDING', () => {
    assert.deepEqual(
      outcomeFromMeta(meta({ state: 'SUCCESS', result: parsePyJson('[1, 2.0]'), dateDone: DONE }), NOW),
      {
        taskId: 't1',
        state: 'SUCCESS',
        at: DONE,
        finishedAt: DONE,
        result: '[1,2.0]',
      },
    );
    const traceback = 'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: boom\n';
    assert.deepEqual(
      outcomeFromMeta(
        meta({
          state: 'FAILURE',
          result: parsePyJson('{"exc_type": "ValueError", "exc_message": ["boom"], "exc_module": "builtins"}'),
          traceback,
          dateDone: DONE,
          worker: 'celery@h',
        }),
        NOW,
      ),
      {
        taskId: 't1',
        worker: 'celery@h',
        state: 'FAILURE',
        at: DONE,
        finishedAt: DONE,
        exceptionType: 'ValueError',
        exceptionMessage: 'boom',
        traceback,
      },
    );
    const retry = outcomeFromMeta(
      meta({
        state: 'RETRY',
        result: parsePyJson(
          '{"exc_type": "Retry", "exc_message": ["Retry in 1s: boom", null, 1], "exc_module": "celery.exceptions"}',
        ),
      }),
      NOW,
    );
    assert.deepEqual(
      [retry?.state, retry?.at, retry?.finishedAt, retry?.exceptionType, retry?.exceptionMessage],
      ['RETRY', NOW, undefined, 'Retry', '["Retry in 1s: boom",null,1]'],
    );
    const revoked = outcomeFromMeta(
      meta({
        state: 'REVOKED',
        result: parsePyJson('{"exc_type": "TaskRevokedError", "exc_message": ["revoked"]}'),
        dateDone: DONE,
      }),
      NOW,
    );
    assert.deepEqual(
      [revoked?.state, revoked?.exceptionType, revoked?.finishedAt],
      ['REVOKED', 'TaskRevokedError', DONE],
    );
    assert.deepEqual(outcomeFromMeta(meta({ state: 'STARTED', worker: 'celery@w' }), NOW), {
      taskId: 't1',
      worker: 'celery@w',
      state: 'STARTED',
      at: NOW,
    });
    assert.equal(outcomeFromMeta(meta({ state: 'PROGRESS' }), NOW)?.state, 'STARTED');
    assert.equal(outcomeFromMeta(meta({ state: 'PENDING' }), NOW), null);
  });

  test('a long value is cut to 4 KiB; an unreadable one is left out; the exception from the traceback when not stored', () => {
    const long = outcomeFromMeta(meta({ state: 'SUCCESS', result: 'x'.repeat(10_000) }), NOW);
    assert.equal(long?.result?.length, 4096);
    assert.ok(long?.result?.endsWith('…'));
    assert.equal(outcomeFromMeta(meta({ state: 'SUCCESS', result: undefined }), NOW)?.result, undefined);
    assert.deepEqual(
      exceptionOf(
        meta({ state: 'FAILURE', result: undefined, traceback: 'Traceback …\nproj.errors.Oops: it broke\n' }),
      ),
      { type: 'Oops', module: null, message: 'it broke' },
    );
  });
});
