/**
 * Error taxonomy.
 * - Guest-controlled input never throws: it becomes an architected outcome (event, command error,
 *   GERROR, abort). Nothing here is for that.
 * - {@link UserInputError}: a bad config, file or flag from the person running the CLI/library.
 *   The CLI prints its message (which names the place) and exits 2.
 * - {@link ExpectationError}: a scenario expectation failed; the CLI exits 1.
 * - Plain Error/RangeError: host misuse of the library API (a bug in the embedding VMM).
 */
export class UserInputError extends Error {
  override readonly name = 'UserInputError';
  constructor(message: string, readonly where?: string) {
    super(where ? `${where}: ${message}` : message);
  }
}

export class ExpectationError extends Error {
  override readonly name = 'ExpectationError';
}
