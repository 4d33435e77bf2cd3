// What Python makes of JSON texts: json.loads's values as [type, value] pairs
// and Celery's saferepr of them (the argsrepr a real beat would send). One
// Python process answers every text.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

const DESCRIBER = `
import json, sys
from celery.utils.saferepr import saferepr
def typed(v):
    if v is None: return ['None']
    if isinstance(v, bool): return ['bool', v]
    if isinstance(v, int): return ['int', str(v)]
    if isinstance(v, float): return ['float', repr(v)]
    if isinstance(v, str): return ['str', v]
    if isinstance(v, (list, tuple)): return ['list', [typed(x) for x in v]]
    if isinstance(v, dict): return ['dict', [[k, typed(x)] for k, x in v.items()]]
    raise TypeError(type(v))
for line in sys.stdin:
    value = json.loads(json.loads(line))
    sys.stdout.write(json.dumps({'typed': typed(value), 'saferepr': saferepr(value, 1024)}) + '\\n')
`;

export interface PythonView {
  /** json.loads(text) as [type, value] pairs: `['float', '1.0']`, `['int', '9007199254740993']`. */
  typed: unknown;
  /** celery.utils.saferepr.saferepr(json.loads(text), 1024). */
  saferepr: string;
}

/** Python's view of each JSON text (each must be valid for Python's json). */
export async function pythonView(texts: string[]): Promise<PythonView[]> {
  const child = spawn('/usr/bin/python3', ['-c', DESCRIBER], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin.end(texts.map((t) => JSON.stringify(t)).join('\n') + '\n');
  assert.equal(await exited, 0, stderr);
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as PythonView);
}
