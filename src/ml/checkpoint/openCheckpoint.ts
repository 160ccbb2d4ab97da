// Opens any supported checkpoint by content (not by extension): safetensors, torch zip,
// TorchScript zip. Foreign files (an image renamed .safetensors) are refused by their magic bytes.
// Whatever the bytes, opening ends in a Checkpoint or a CheckpointError within the limits
// (limits.ts); anything else escaping from here is a bug in the readers.
import { CheckpointError } from './errors';
import { FileSource } from './fileSource';
import { Budget, type ReadLimits } from './limits';
import { looksLikeSafetensors, openSafetensors } from './safetensors';
import { openTorchZip } from './torchZip';
import type { Checkpoint } from './types';
import { looksLikeZip } from './zip';

const KNOWN_MAGIC: [string, number[]][] = [
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a TIFF image or slide', [0x49, 0x49, 0x2a, 0x00]],
  ['a TIFF image or slide', [0x4d, 0x4d, 0x00, 0x2a]],
  ['a BMP image', [0x42, 0x4d]],
  ['a gzip file', [0x1f, 0x8b]],
  ['an HDF5 (Keras) file', [0x89, 0x48, 0x44, 0x46]],
  ['an ONNX or protobuf file', [0x08]],
];

/** `limits` overrides the defaults of limits.ts (tests use it; the app keeps the defaults). */
export function openCheckpoint(path: string, limits: Partial<ReadLimits> = {}): Checkpoint {
  const budget = new Budget(path, limits);
  const src = new FileSource(path);
  try {
    if (src.size === 0) throw new CheckpointError('truncated', `${path}: the file is empty`);
    const head = src.read(0, Math.min(16, src.size));
    if (src.size < 16 && /\.(safetensors|bin|pt|pth|ckpt)$/i.test(path)) {
      throw new CheckpointError('truncated', `${path}: only ${src.size} bytes, too short to be a checkpoint; the file is incomplete`);
    }
    if (looksLikeZip(head)) return openTorchZip(src, budget);
    if (looksLikeSafetensors(head)) return openSafetensors(src, budget);
    if (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) {
      throw new CheckpointError(
        'unsupported-format',
        `${path}: a legacy (pre-1.6, non-zip) PyTorch pickle; re-save it with torch.save(torch.load(f), out) on torch >= 1.6, or convert it to safetensors`,
      );
    }
    if (path.toLowerCase().endsWith('.safetensors') && src.size >= 8 && head.length >= 9 && head[8] === 0x7b) {
      // A header that starts like JSON but declares an impossible length.
      throw new CheckpointError('corrupt', `${path}: the safetensors header length is damaged`);
    }
    const what = KNOWN_MAGIC.find(([, m]) => m.every((b, i) => head[i] === b))?.[0];
    throw new CheckpointError(
      'not-a-checkpoint',
      `${path}: ${what ? `this is ${what}, not` : 'not'} a model checkpoint; expected .safetensors or a PyTorch .bin/.pt/.pth (zip) file`,
    );
  } catch (err) {
    src.close();
    throw err;
  }
}
