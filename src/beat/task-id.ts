import { hash } from 'node:crypto';

// A fixed namespace, so that every beat process derives the same id for a run.
const NAMESPACE = 'dbbeat:run:v1';

/**
 * The Celery task id of one scheduled run: a UUID (version 5 layout, SHA-1 based)
 * derived from the database's installation id (dbbeat_installation), the periodic
 * task's row id and the scheduled slot. Every beat process on that database computes
 * the same id for the same run, which is what lets Redis suppress a re-send after a
 * crash and lets consumers recognise a repeat on RabbitMQ; another database never does.
 *
 * The first 16 bytes of the SHA-1 in hex, with the version nibble set to 5 and the
 * variant bits to 10 (RFC 4122), in 8-4-4-4-12 groups. One-shot `crypto.hash` to hex and
 * string slices: a Hash object, a Buffer and its hex conversion per run cost twice as much
 * (a burst derives one id per run).
 */
export function runTaskId(installationId: string, periodicTaskId: number, slot: Date): string {
  const hex = hash('sha1', `${NAMESPACE}:${installationId}:${periodicTaskId}:${slot.toISOString()}`, 'hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
