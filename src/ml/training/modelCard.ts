// model-card.md of a run folder: what a reader of a trained run needs without opening JSON:
// the base model (and which attention head count was used, and why: checkpoints do not record
// it), the method and its settings, the data, and the scores. config.json stays the source.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EncoderConfig } from '../models/encoder';
import { RUN_FILES, type RunConfig } from './runDir';
import type { RunMetrics } from '../../shared/jobs';

/** One sentence: the head count and where it came from (models/headCount.ts), for embed, train and the card. */
export function headsExplanation(cfg: Pick<EncoderConfig, 'heads' | 'headsSource' | 'width'>): string {
  switch (cfg.headsSource) {
    case 'option':
      return `${cfg.heads} attention heads, as given with --heads`;
    case 'config.json':
      return `${cfg.heads} attention heads, read from config.json beside the checkpoint (num_attention_heads)`;
    case 'open_clip_config.json':
      return `${cfg.heads} attention heads, read from open_clip_config.json beside the checkpoint (vision_cfg width / head_width)`;
    case 'width/64 guess':
      return (
        `${cfg.heads} attention heads, guessed as width ${cfg.width} / 64: no --heads and no config.json or open_clip_config.json ` +
        'beside the checkpoint (right for ViT-B/L and OpenAI CLIP towers, wrong for e.g. ViT-H/14: pass --heads N then)'
      );
  }
}

const pct = (m: { top1: number } | null | undefined) => (m ? `${(100 * m.top1).toFixed(2)} %` : 'n/a');

export function modelCardMarkdown(cfg: RunConfig, metrics: RunMetrics | null): string {
  const e = cfg.encoder;
  const s = cfg.settings;
  const lines = [
    `# ${cfg.method === 'lora' ? 'LoRA fine-tuning' : 'Linear probe'} of ${e.family}`,
    '',
    '## Base model',
    '',
    `- checkpoint: ${cfg.checkpoint} (sha256 ${cfg.checkpointSha256})`,
    `- ${e.family}, width ${e.width}, ${e.depth} blocks, patch ${e.patchSize}, ${e.imageSize} px, embedding ${e.outputDim}, ${e.activation}`,
    `- heads: ${headsExplanation(e)}`,
    '',
    '## Training',
    '',
    cfg.lora
      ? `- LoRA rank ${cfg.lora.rank} on ${cfg.lora.targets.join(',')} of blocks ${cfg.lora.blocks.join(',')}, alpha ${cfg.lora.alpha} (scale ${cfg.lora.scale.toPrecision(4)}), dropout ${cfg.lora.dropout}`
      : '- linear head on the frozen embedding',
    `- ${cfg.totalSteps} AdamW steps (lr ${s.lr}, weight decay ${s.weightDecay}, batch ${s.batchSize}), warm-up ${s.warmupSteps} then cosine to ${s.minLr}, seed ${s.seed}`,
    `- input: ${cfg.data.train}${s.augment ? '' : ' (no augmentation)'}; start: ${cfg.init?.adapter || cfg.init?.head ? `adapter ${cfg.init.adapter ?? 'seeded'}, head ${cfg.init.head ?? 'seeded'}` : 'seeded initialisation'}`,
    `- classes (${cfg.classNames.length}): ${cfg.classNames.join(', ')}`,
    `- images: train ${cfg.data.trainImages}, val ${cfg.data.valImages}, test ${cfg.data.testImages}; backend ${cfg.backend}`,
    '',
  ];
  if (metrics) {
    lines.push(
      '## Scores (top-1)',
      '',
      `- train ${pct(metrics.train)}, val ${pct(metrics.val)}, test ${pct(metrics.test)}`,
      `- final training loss ${Number.isFinite(metrics.finalTrainLoss) ? metrics.finalTrainLoss.toFixed(4) : 'n/a (no steps)'}; ${metrics.trainableParameters} trainable parameters; ${metrics.seconds.toFixed(1)} s`,
      '',
    );
  }
  return lines.join('\n');
}

export async function writeModelCard(runDir: string, cfg: RunConfig, metrics: RunMetrics | null): Promise<void> {
  await writeFile(join(runDir, RUN_FILES.card), modelCardMarkdown(cfg, metrics));
}
