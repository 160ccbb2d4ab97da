// The identity of a base checkpoint: the SHA-256 of its bytes. Adapters and heads record it
// and refuse to load onto any other base (same family and shape is not enough).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
