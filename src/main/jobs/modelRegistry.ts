// Foundation models brought in as checkpoint files: read the tensor names and shapes (no
// weights), detect family and size, hash the file, and say plainly why a file is refused.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { ApiError } from '../../shared/api';
import type { ModelInspection } from '../../shared/domain';
import { openCheckpoint } from '../../ml/checkpoint/openCheckpoint';
import { elementCount } from '../../ml/checkpoint/types';
import { detectFamily } from '../../ml/models/registry';

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function inspectModel(path: string): Promise<ModelInspection> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new ApiError('not-found', `No file at ${path}.`);
  }
  let checkpoint;
  try {
    checkpoint = openCheckpoint(path);
  } catch (err) {
    throw new ApiError('invalid-input', (err as Error).message);
  }
  try {
    const detected = detectFamily(checkpoint.tensors, {}, path);
    let parameterCount = 0;
    for (const t of checkpoint.tensors.values()) parameterCount += elementCount(t.shape);
    return {
      path,
      sha256: await sha256(path),
      sizeBytes: info.size,
      family: detected.config.family,
      config: { ...detected.config },
      parameterCount,
    };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError('invalid-input', (err as Error).message);
  } finally {
    checkpoint.close();
  }
}
