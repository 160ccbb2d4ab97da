// Positional reads from a file descriptor: the readers never hold the whole file in memory.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CheckpointError } from './errors';

export class FileSource {
  readonly size: number;
  private fd: number | null;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new CheckpointError('not-found', `${path}: file not found`);
      if (code === 'EISDIR') throw new CheckpointError('not-a-checkpoint', `${path}: is a directory, not a checkpoint file`);
      throw new CheckpointError('not-found', `${path}: cannot open (${(err as Error).message})`);
    }
    const st = fstatSync(this.fd);
    if (st.isDirectory()) {
      this.close();
      throw new CheckpointError('not-a-checkpoint', `${path}: is a directory, not a checkpoint file`);
    }
    this.size = st.size;
  }

  /** Exactly `length` bytes at `offset`, or a 'truncated' error when the file ends first. */
  read(offset: number, length: number, what = 'data'): Uint8Array {
    if (this.fd === null) throw new Error(`${this.path}: read after close`);
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new CheckpointError(
        'truncated',
        `${this.path}: ${what} lies beyond the end of the file (${offset + length} > ${this.size} bytes); the file is probably incomplete, copy it again`,
      );
    }
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, offset + done);
      if (n === 0) throw new CheckpointError('truncated', `${this.path}: unexpected end of file while reading ${what}`);
      done += n;
    }
    return buf;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
