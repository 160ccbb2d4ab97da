// Expected failures while reading a checkpoint file. Each has a `kind` the UI and the CLI can
// act on; anything else thrown from the readers is a bug.

export type CheckpointErrorKind =
  | 'not-found'
  | 'truncated'
  | 'corrupt'
  | 'not-a-checkpoint'
  | 'unsupported-format'
  | 'unsupported-dtype'
  | 'unknown-family';

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly kind: CheckpointErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export function isCheckpointError(err: unknown): err is CheckpointError {
  return err instanceof CheckpointError;
}
