// Adapter files: LoRA factors in PyTorch layout (blocks.{i}.{q|k|v|o}.lora_A [r, in], lora_B
// [out, r]) plus metadata naming the base checkpoint (sha256), family, rank, alpha, targets,
// blocks, class names in head order and the preprocessing, as safetensors.
import type { FamilyName } from '../models/encoder';
import { LoraAdapter } from './loraAdapter';
import type { LoraSpec } from './loraConfig';
import { readWeightsFile, writeWeightsFile } from './safetensorsIo';
import type { ProjectionName } from '../../shared/training';

export const ADAPTER_FORMAT = 'cytotune-lora-adapter/1';

/** What an adapter or head must agree on with the model it is loaded onto. */
export interface BaseModelInfo {
  baseSha256: string;
  family: FamilyName;
  width: number;
}

export interface AdapterMetadata extends BaseModelInfo {
  classNames: string[];
  /** Preprocessing the adapter was trained with (mean, std, image size, ...), opaque here. */
  preprocessing: unknown;
}

export class AdapterError extends Error {
  constructor(
    readonly kind: 'adapter-base-mismatch' | 'adapter-invalid',
    message: string,
  ) {
    super(message);
  }
}

export async function saveAdapter(path: string, adapter: LoraAdapter, meta: AdapterMetadata): Promise<void> {
  const s = adapter.spec;
  await writeWeightsFile(path, adapter.toHostTensors(), {
    format: ADAPTER_FORMAT,
    ...baseMetadata(meta),
    rank: String(s.rank),
    alpha: String(s.alpha),
    dropout: String(s.dropout),
    targets: s.targets.join(','),
    blocks: JSON.stringify(s.blocks),
  });
}

/** Loads an adapter for `base`; refuses (kind 'adapter-base-mismatch') one trained on another base. */
export async function loadAdapter(path: string, base: BaseModelInfo): Promise<{ adapter: LoraAdapter; meta: AdapterMetadata }> {
  const { tensors, metadata } = await readWeightsFile(path);
  if (metadata.format !== ADAPTER_FORMAT)
    throw new AdapterError('adapter-invalid', `${path}: not a CytoTune LoRA adapter (format "${metadata.format ?? 'none'}")`);
  const meta = parseBaseMetadata(path, metadata);
  checkSameBase(path, meta, base);
  const rank = Number(metadata.rank);
  const alpha = Number(metadata.alpha);
  const spec: LoraSpec = {
    rank,
    alpha,
    dropout: Number(metadata.dropout),
    targets: metadata.targets.split(',') as ProjectionName[],
    blocks: JSON.parse(metadata.blocks) as number[],
    scale: alpha / Math.sqrt(rank),
  };
  try {
    return { adapter: LoraAdapter.fromHostTensors(spec, tensors, base.width), meta };
  } catch (err) {
    throw new AdapterError('adapter-invalid', `${path}: ${(err as Error).message}`);
  }
}

export function baseMetadata(meta: AdapterMetadata): Record<string, string> {
  return {
    base_sha256: meta.baseSha256,
    family: meta.family,
    width: String(meta.width),
    class_names: JSON.stringify(meta.classNames),
    preprocessing: JSON.stringify(meta.preprocessing ?? null),
  };
}

export function parseBaseMetadata(path: string, metadata: Record<string, string>): AdapterMetadata {
  try {
    return {
      baseSha256: metadata.base_sha256,
      family: metadata.family as FamilyName,
      width: Number(metadata.width),
      classNames: JSON.parse(metadata.class_names) as string[],
      preprocessing: JSON.parse(metadata.preprocessing ?? 'null'),
    };
  } catch {
    throw new AdapterError('adapter-invalid', `${path}: metadata is damaged`);
  }
}

export function checkSameBase(path: string, meta: BaseModelInfo, base: BaseModelInfo): void {
  if (meta.baseSha256 !== base.baseSha256 || meta.family !== base.family || meta.width !== base.width) {
    throw new AdapterError(
      'adapter-base-mismatch',
      `${path} was trained on another base model (${meta.family}, sha256 ${meta.baseSha256.slice(0, 12)}...) ` +
        `and cannot be used with this one (${base.family}, sha256 ${base.baseSha256.slice(0, 12)}...); pick the checkpoint it was trained on`,
    );
  }
}
