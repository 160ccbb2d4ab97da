// Expected failures while reading a checkpoint file. Each has a `kind` the UI and the CLI can
// act on; anything else thrown from the readers is a bug.

export type CheckpointErrorKind =
  | 'not-found'
  | 'truncated'
  | 'corrupt'
  | 'not-a-checkpoint'
  | 'unsupported-format'
  | 'unsupported-dtype'
  | 'unknown-family'
  // The file asks for more work or memory than any real checkpoint needs (see limits.ts):
  // damaged or hostile, refused before it can hang or exhaust the app.
  | 'limit-exceeded';

/** Longest message kept whole; names taken from a hostile file can be megabytes long. */
const MAX_MESSAGE = 1500;

/** One printable line: control characters escaped, an over-long middle elided. */
function oneLine(message: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const s = message.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return s.length <= MAX_MESSAGE ? s : `${s.slice(0, 1000)} … ${s.slice(-400)}`;
}

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly kind: CheckpointErrorKind,
    message: string,
  ) {
    // Messages interpolate names read from the file (zip entries, tensor keys), which may hold
    // newlines or be huge; the UI and the CLI show one line.
    super(oneLine(message));
  }
}

export function isCheckpointError(err: unknown): err is CheckpointError {
  return err instanceof CheckpointError;
}
