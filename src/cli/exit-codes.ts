// One exit-code rule for every dbbeat command (README, "Exit codes").

/** A clean stop: the work is done, or SIGINT/SIGTERM finished the batch in flight. */
export const EXIT_OK = 0;
/** A failure at run time: something that worked stopped working, or a check found problems. */
export const EXIT_FAILURE = 1;
/**
 * A usage or configuration error that no retry can mend: an unknown flag, a bad value, an
 * unsupported URL, a missing database, refused credentials, an edited migration.
 */
export const EXIT_USAGE = 2;
