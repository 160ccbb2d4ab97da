// A trained run as one file, to carry an adapter (LoRA + head, or a head alone) to another
// project or workstation: a safetensors file whose tensors are the run's adapter and head
// (prefixed) and whose metadata holds the run configuration and the base model's sha256.
// Importing refuses a bundle whose base model is not in the receiving project.
import { mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../../shared/api';
import type { ModelRecord } from '../../shared/domain';
import { readWeightsFile, writeWeightsFile, type DecodedWeights } from '../../ml/adapters/safetensorsIo';
import { RUN_FILES, writeJson, type RunConfig } from '../../ml/training/runDir';
import type { HostTensor } from '../../ml/adapters/safetensorsIo';

const format = 'cytotune-adapter-bundle/1';
const parts = ['adapter', 'head'] as const;

export async function exportAdapterBundle(runDir: string, outPath: string): Promise<void> {
  const config = JSON.parse(await readFile(join(runDir, RUN_FILES.config), 'utf8')) as RunConfig;
  const tensors: HostTensor[] = [];
  const metadata: Record<string, string> = { format, config: JSON.stringify(config), baseSha256: config.checkpointSha256 };
  for (const part of parts) {
    const file = join(runDir, RUN_FILES[part]);
    if (!existsSync(file)) continue;
    const weights = await readWeightsFile(file);
    metadata[`${part}.metadata`] = JSON.stringify(weights.metadata);
    for (const t of weights.tensors.values()) tensors.push({ ...t, name: `${part}.${t.name}` });
  }
  if (!metadata['head.metadata']) throw new ApiError('not-found', `${runDir} holds no trained head: export a finished run.`);
  const metrics = join(runDir, RUN_FILES.metrics);
  if (existsSync(metrics)) metadata.metrics = await readFile(metrics, 'utf8');
  await writeWeightsFile(outPath, tensors, metadata);
}

export interface ImportedBundle {
  config: RunConfig;
  metrics: Record<string, unknown> | null;
  model: ModelRecord;
}

/** Unpacks a bundle into `runDir`, pointing it at the receiving project's copy of the base model. */
export async function importAdapterBundle(path: string, runDir: string, models: ModelRecord[]): Promise<ImportedBundle> {
  let bundle: DecodedWeights;
  try {
    bundle = await readWeightsFile(path);
  } catch (err) {
    throw new ApiError('invalid-input', (err as Error).message);
  }
  if (bundle.metadata.format !== format)
    throw new ApiError('invalid-input', `${path} is not a CytoTune adapter file (exported from a run).`);
  const model = models.find((m) => m.sha256 === bundle.metadata.baseSha256);
  const config = JSON.parse(bundle.metadata.config) as RunConfig;
  if (!model) {
    throw new ApiError(
      'conflict',
      `This adapter was trained on ${config.checkpoint.split(/[\\/]/).pop()} (sha256 ${bundle.metadata.baseSha256.slice(0, 12)}…), which is not among this project's models: add that checkpoint first.`,
    );
  }
  await mkdir(runDir, { recursive: true });
  for (const part of parts) {
    const meta = bundle.metadata[`${part}.metadata`];
    if (!meta) continue;
    const tensors = [...bundle.tensors.values()]
      .filter((t) => t.name.startsWith(`${part}.`))
      .map((t) => ({ ...t, name: t.name.slice(part.length + 1) }));
    await writeWeightsFile(join(runDir, RUN_FILES[part]), tensors, JSON.parse(meta));
  }
  const local: RunConfig = { ...config, checkpoint: model.path };
  await writeJson(join(runDir, RUN_FILES.config), local);
  const metrics = bundle.metadata.metrics ? (JSON.parse(bundle.metadata.metrics) as Record<string, unknown>) : null;
  // With its stored int8 check (same adapter, head and base: still valid for the same int8 graph),
  // so the imported run classifies on the engine the original run used.
  if (metrics) await writeJson(join(runDir, RUN_FILES.metrics), metrics);
  return { config: local, metrics, model };
}
