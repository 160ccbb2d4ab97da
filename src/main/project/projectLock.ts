// The project lock: one CytoTune process at a time writes a project. The holder is a small
// JSON file beside the project (<project>.lock: pid, host, user, start, heartbeat), created
// atomically (a complete temporary file hard-linked into place, so nobody reads half a lock).
// A lock whose process is gone (same host) or whose heartbeat stopped (another host sharing the
// folder) is stale and taken over; any other holder is reported by name, and the caller opens
// the project read-only or refuses.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';

export interface LockHolder {
  app: 'cytotune';
  pid: number;
  host: string;
  user: string;
  startedAt: string;
  heartbeatAt: string;
  /** Tells this holder's lock from a later one with the same pid. */
  token?: string;
}

export type LockAttempt =
  | { ok: true; lock: ProjectLock }
  | { ok: false; reason: 'held'; holder: LockHolder | null; message: string }
  | { ok: false; reason: 'unwritable'; message: string };

const HEARTBEAT_MS = 15_000;
/** Another host's lock is stale once its heartbeat is this old. */
const OTHER_HOST_STALE_MS = 90_000;
/** A live pid on this host with a heartbeat this old is a reused pid or a hung process. */
const SAME_HOST_STALE_MS = 10 * 60_000;
/** An unreadable lock file younger than this is being written; older, it is debris. */
const UNREADABLE_GRACE_MS = 5_000;

export const lockPathOf = (projectPath: string): string => `${projectPath}.lock`;

const userName = (): string => {
  try {
    return process.env.CYTOTUNE_USER || userInfo().username || 'user';
  } catch {
    return 'user';
  }
};

function readHolder(lockPath: string): LockHolder | null {
  try {
    const value = JSON.parse(readFileSync(lockPath, 'utf8')) as LockHolder;
    return value && value.app === 'cytotune' && Number.isInteger(value.pid) ? value : null;
  } catch {
    return null;
  }
}

/** Whether a process of this host is running (another user's counts). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

function isLive(holder: LockHolder, now = Date.now()): boolean {
  const age = now - Date.parse(holder.heartbeatAt);
  if (holder.host === hostname()) return pidAlive(holder.pid) && !(age > SAME_HOST_STALE_MS);
  return age <= OTHER_HOST_STALE_MS;
}

/** "process 123 of ana on lab-pc, since 14:02" */
export function describeHolder(holder: LockHolder | null): string {
  if (!holder) return 'another CytoTune process';
  const since = new Date(holder.startedAt);
  const when = Number.isNaN(since.getTime()) ? '' : `, since ${since.toLocaleString()}`;
  return `process ${holder.pid} of ${holder.user} on ${holder.host}${when}`;
}

/** Writes `holder` to a temporary file and links it to `lockPath`: fails with EEXIST when a lock is there. */
function createLockFile(lockPath: string, holder: LockHolder): void {
  const tmp = `${lockPath}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx');
  try {
    writeSync(fd, JSON.stringify(holder));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, lockPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw err;
    // No hard links (FAT, some network shares): exclusive create, then write.
    const fd2 = openSync(lockPath, 'wx');
    try {
      writeSync(fd2, JSON.stringify(holder));
      fsyncSync(fd2);
    } finally {
      closeSync(fd2);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

export class ProjectLock {
  private timer: NodeJS.Timeout | null = null;
  private released = false;

  private constructor(
    readonly lockPath: string,
    private holder: LockHolder,
  ) {
    this.timer = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Takes the lock of `projectPath`, taking over a stale one; says who holds it otherwise. */
  static acquire(projectPath: string): LockAttempt {
    const lockPath = lockPathOf(projectPath);
    const now = new Date().toISOString();
    const mine: LockHolder = {
      app: 'cytotune',
      pid: process.pid,
      host: hostname(),
      user: userName(),
      startedAt: now,
      heartbeatAt: now,
      token: randomBytes(8).toString('hex'),
    };
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        createLockFile(lockPath, mine);
        return { ok: true, lock: new ProjectLock(lockPath, mine) };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
          return { ok: false, reason: 'unwritable', message: `CytoTune may not write in the folder of ${projectPath}` };
        }
        if (code !== 'EEXIST') throw err;
      }
      const holder = readHolder(lockPath);
      if (holder && isLive(holder)) return { ok: false, reason: 'held', holder, message: describeHolder(holder) };
      if (!holder && !isOldDebris(lockPath)) return { ok: false, reason: 'held', holder: null, message: describeHolder(null) };
      takeOverStale(lockPath, holder);
    }
    const holder = readHolder(lockPath);
    return { ok: false, reason: 'held', holder, message: describeHolder(holder) };
  }

  /** Refreshes the heartbeat; a lock that another process took over is given up. */
  private beat(): void {
    if (this.released) return;
    const current = readHolder(this.lockPath);
    if (!current || current.token !== this.holder.token) {
      this.stop();
      process.emitWarning(`The lock of ${this.lockPath} was taken by ${describeHolder(current)}.`);
      return;
    }
    this.holder = { ...this.holder, heartbeatAt: new Date().toISOString() };
    const tmp = `${this.lockPath}.beat-${process.pid}`;
    try {
      writeFileSync(tmp, JSON.stringify(this.holder));
      renameSync(tmp, this.lockPath);
    } catch {
      rmSync(tmp, { force: true }); // a full disk: the old heartbeat stays, still ours
    }
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.stop();
    if (readHolder(this.lockPath)?.token === this.holder.token) rmSync(this.lockPath, { force: true });
  }
}

function isOldDebris(lockPath: string): boolean {
  try {
    return Date.now() - statSync(lockPath).mtimeMs > UNREADABLE_GRACE_MS;
  } catch {
    return true; // gone meanwhile: try again
  }
}

/**
 * Moves a stale lock aside with one rename (only one of several takers wins it); when what was
 * moved is not the lock judged stale (someone took over in between), puts it back.
 */
function takeOverStale(lockPath: string, judged: LockHolder | null): void {
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return; // gone meanwhile: the next attempt creates it
  }
  const moved = readHolder(aside);
  const same = judged ? moved?.token === judged.token && moved?.pid === judged.pid && moved.heartbeatAt === judged.heartbeatAt : !moved;
  if (!same) {
    try {
      linkSync(aside, lockPath); // never over a lock created meanwhile
    } catch {
      /* a newer lock is in place */
    }
  }
  rmSync(aside, { force: true });
}
