// Failures of the disk and of SQLite that are not bugs: a full disk, a project busy in another
// connection, a read-only file, a damaged file. Each becomes a value with a message a user can
// act on; callers decide what was committed (a whole transaction or nothing).
import { ApiError } from '../../shared/api';

export type StorageFailureKind = 'disk-full' | 'busy' | 'read-only' | 'damaged' | 'unreachable';

export interface StorageFailure {
  kind: StorageFailureKind;
  message: string;
}

export const DISK_FULL_MESSAGE = 'The disk is full: nothing was changed. Free some space and try again.';
export const BUSY_MESSAGE = 'The project is busy in another CytoTune process: nothing was changed. Try again in a moment.';
export const READ_ONLY_MESSAGE = 'This project is read-only here: nothing was changed.';
export const UNREACHABLE_MESSAGE =
  'The lab database is not reachable: this change may not have been saved. Check the lab server and PostgreSQL, then reload.';
export const DAMAGED_MESSAGE = 'The project file is damaged: nothing was changed. Export what you can and restore a backup.';

const codeOf = (err: unknown): string => {
  const e = err as { code?: unknown } | null;
  return typeof e?.code === 'string' ? e.code : '';
};

/** The storage failure `err` is, or null when it is something else (a bug, a constraint). */
export function storageFailure(err: unknown): StorageFailure | null {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT' || /SQLITE_FULL|ENOSPC|database or disk is full/.test(message)) {
    return { kind: 'disk-full', message: DISK_FULL_MESSAGE };
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return { kind: 'busy', message: BUSY_MESSAGE };
  // A lab project (PostgreSQL SQLSTATEs, and pg/syncClient.ts's own codes for a lost connection).
  if (code === '53100') return { kind: 'disk-full', message: DISK_FULL_MESSAGE };
  if (code === '40001' || code === '40P01' || code === '55P03') return { kind: 'busy', message: BUSY_MESSAGE };
  if (/^(08|57P0)/.test(code) || code === 'CONNECTION' || code === 'TIMEOUT' || code === 'CLOSED') {
    return { kind: 'unreachable', message: UNREACHABLE_MESSAGE };
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') return { kind: 'read-only', message: READ_ONLY_MESSAGE };
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return { kind: 'damaged', message: DAMAGED_MESSAGE };
  return null;
}

export const isDiskFull = (err: unknown): boolean => storageFailure(err)?.kind === 'disk-full';

/** An ApiError that is a storage failure, so callers can tell a full disk from a refused input. */
export class StorageError extends ApiError {
  constructor(
    readonly failure: StorageFailureKind,
    message: string,
  ) {
    super(failure === 'busy' || failure === 'read-only' ? 'conflict' : 'io', message);
  }
}

/** The storage failure of `err`, whether raw (SQLite, fs) or already a StorageError. */
export function failureOf(err: unknown): StorageFailureKind | null {
  if (err instanceof StorageError) return err.failure;
  if (err instanceof ApiError) return null;
  return storageFailure(err)?.kind ?? null;
}

/** Rethrows a storage failure as a StorageError ('io', or 'conflict' when busy or read-only); other errors as they are. */
export function asApiError(err: unknown, readOnlyReason?: string): unknown {
  if (err instanceof ApiError) return err;
  const failure = storageFailure(err);
  if (!failure) return err;
  return new StorageError(failure.kind, failure.kind === 'read-only' ? (readOnlyReason ?? failure.message) : failure.message);
}
