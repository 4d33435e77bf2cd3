/** A schedule field that cannot be parsed or is out of range; the message names the field and the value. */
export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
  constructor(
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`${field}: ${JSON.stringify(value)} ${reason}`);
  }
}
