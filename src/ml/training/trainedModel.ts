// What training produces: the LoRA adapter (null for a linear probe) and the head.
import type { LoraAdapter } from '../adapters/loraAdapter';
import type { LinearHead } from '../adapters/linearHead';
import { join } from 'node:path';
import { loadAdapter } from '../adapters/adapterFile';
import { loadHead } from '../adapters/headFile';
import { RUN_FILES, type RunConfig } from './runDir';

export class TrainedModel {
  constructor(
    readonly adapter: LoraAdapter | null,
    readonly head: LinearHead,
  ) {}

  trainableParameterCount(): number {
    return (this.adapter?.parameterCount() ?? 0) + this.head.w.size + this.head.b.size;
  }

  dispose(): void {
    this.adapter?.dispose();
    this.head.dispose();
  }
}

/** Loads the trained adapter (if any) and head; both are checked against the base's sha256. */
export async function loadTrainedModel(runDir: string, cfg: RunConfig, baseSha256: string): Promise<TrainedModel> {
  const base = { baseSha256, family: cfg.encoder.family, width: cfg.encoder.width };
  const { head } = await loadHead(join(runDir, RUN_FILES.head), { ...base, outputDim: cfg.encoder.outputDim });
  if (cfg.method !== 'lora') return new TrainedModel(null, head);
  try {
    const { adapter } = await loadAdapter(join(runDir, RUN_FILES.adapter), base);
    return new TrainedModel(adapter, head);
  } catch (err) {
    head.dispose();
    throw err;
  }
}
