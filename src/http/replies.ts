// The console's answers shared by its routes: a 422 listing every issue, a write's known
// errors as 404/409/422, and the parts of a request the task routes read (the JSON body,
// the version an edit names, a task id in the path).
import type { FastifyReply } from 'fastify';

import { TaskNotFoundError, VersionConflictError } from '../model/task-edit.js';
import { ValidationError, type ValidationIssue } from '../model/validate.js';
import type { JsonBody } from './task-input.js';

/** Runs a write and turns its known errors into answers: 404, 409, 422. */
export async function writing(reply: FastifyReply, work: () => Promise<unknown>): Promise<unknown> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ValidationError) return unprocessable(reply, error.issues);
    if (error instanceof TaskNotFoundError) return reply.code(404).send({ error: error.message });
    if (error instanceof VersionConflictError)
      return reply.code(409).send({ error: error.message, currentVersion: error.current });
    throw error;
  }
}

/** 422 with every issue: `{error: the messages joined, issues: [{field, value, message}]}`. */
export function unprocessable(reply: FastifyReply, issues: ValidationIssue[]): FastifyReply {
  return reply
    .code(422)
    .send({ error: issues.map((each) => each.message).join('; '), issues: issues.map(jsonSafeIssue) });
}

// Dates and other values as JSON shows them.
function jsonSafeIssue(each: ValidationIssue): ValidationIssue {
  const value =
    each.value instanceof Date
      ? Number.isNaN(each.value.getTime())
        ? 'Invalid Date'
        : each.value.toISOString()
      : each.value;
  return { ...each, value: value === undefined ? null : value };
}

/** The request's JSON body as raw-json.ts parsed it (empty when none was sent). */
export function bodyOf(body: unknown): JsonBody {
  return (body as JsonBody | undefined) ?? { value: undefined, raw: new Map() };
}

/** The version an edit names: If-Match (quotes and W/ dropped), else the body's `version`. */
export function versionOf(ifMatch: string | undefined, body: JsonBody | undefined): string | undefined {
  if (ifMatch !== undefined && ifMatch !== '') return ifMatch.replace(/^W\//, '').replace(/^"|"$/g, '');
  const value = body?.value as Record<string, unknown> | undefined;
  return typeof value?.version === 'string' ? value.version : undefined;
}

/** The `:id` of the path as a number; undefined when it is not 1-9 digits. */
export function idParam(params: unknown): number | undefined {
  const text = (params as { id?: string }).id ?? '';
  return /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}
