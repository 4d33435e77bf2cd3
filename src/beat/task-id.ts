import { createHash } from 'node:crypto';

// A fixed namespace, so that every beat process derives the same id for a run.
const NAMESPACE = 'dbbeat:run:v1';

/**
 * The Celery task id of one scheduled run: a UUID (version 5 layout, SHA-1 based)
 * derived from the database's installation id (dbbeat_installation), the periodic
 * task's row id and the scheduled slot. Every beat process on that database computes
 * the same id for the same run, which is what lets Redis suppress a re-send after a
 * crash and lets consumers recognise a repeat on RabbitMQ; another database never does.
 */
export function runTaskId(installationId: string, periodicTaskId: number, slot: Date): string {
  const hash = createHash('sha1')
    .update(`${NAMESPACE}:${installationId}:${periodicTaskId}:${slot.toISOString()}`)
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
