// The configuration arithmetic every family shares, from its layout (familyDefinition.ts):
// patch size and width from the patch embedding, depth by counting blocks, image size from the
// position embedding's grid, MLP size from block 0, heads from headCount.ts. Shapes only.
import { CheckpointError } from '../checkpoint/errors';
import type { TensorInfo } from '../checkpoint/types';
import type { EncoderConfig } from './encoder';
import type { Detected, FamilyDefinition, ShapeView } from './familyDefinition';
import { headCount } from './headCount';
import type { DetectOptions, FamilyName } from './registry';

export function configFromLayout(
  def: FamilyDefinition<FamilyName>,
  prefix: string,
  t: Map<string, TensorInfo>,
  opts: DetectOptions,
  path: string,
  unknown: () => string,
): Detected {
  const view: ShapeView = {
    has: (name) => t.has(prefix + name),
    shape: (name) => {
      const info = t.get(prefix + name);
      if (!info)
        throw new CheckpointError('unknown-family', `${path}: looks like ${def.name} but ${prefix + name} is missing. ${unknown()}`);
      return info.shape;
    },
  };
  const layout = def.layout(view);
  const [width, channels, patchSize, patchSize2] = layout.patchWeight;
  if (layout.patchWeight.length !== 4 || channels !== 3 || patchSize !== patchSize2) {
    throw new CheckpointError(
      'unknown-family',
      `${path}: ${def.name} patch embedding has shape [${layout.patchWeight}], expected [width, 3, p, p]`,
    );
  }
  const depth = countBlocks(t.keys(), prefix + layout.blockPrefix, layout.blockKey);
  if (depth === 0)
    throw new CheckpointError(
      'unknown-family',
      `${path}: ${def.name} checkpoint without transformer blocks (${prefix + layout.blockPrefix}N.${layout.blockKey})`,
    );
  const mlpDim = view.shape(`${layout.blockPrefix}0.${layout.mlpKey}`)[0];
  // CLS has its own position unless the grid alone is a perfect square (timm no_embed_class).
  const posTokens = layout.posTokens;
  let grid = Math.round(Math.sqrt(posTokens - 1));
  let posHasCls = true;
  if (grid * grid !== posTokens - 1) {
    grid = Math.round(Math.sqrt(posTokens));
    posHasCls = false;
    if (grid * grid !== posTokens)
      throw new CheckpointError('unknown-family', `${path}: ${posTokens} position embeddings do not form a square grid`);
  }
  const { heads, headsSource } = headCount(path, width, opts.heads);
  if (!Number.isInteger(heads) || heads < 1 || width % heads !== 0) {
    const why =
      headsSource === 'width/64 guess'
        ? `width ${width} is not divisible into heads of 64; pass the number of attention heads explicitly`
        : `${heads} attention heads (from ${headsSource}) do not divide width ${width}`;
    throw new CheckpointError('unknown-family', `${path}: ${why}`);
  }
  const config: EncoderConfig = {
    family: def.name,
    imageSize: grid * patchSize,
    patchSize,
    width,
    depth,
    heads,
    headsSource,
    mlpDim,
    outputDim: layout.outputDim,
    layerNormEps: def.layerNormEps,
    activation: opts.activation ?? def.activation,
    mean: [...def.mean],
    std: [...def.std],
  };
  return { config, prefix, layerScale: layout.layerScale, posHasCls };
}

/** 1 + the largest i with `${blockPrefix}i.${key}` among `names`. */
function countBlocks(names: Iterable<string>, blockPrefix: string, key: string): number {
  const re = new RegExp(`^${escape(blockPrefix)}(\\d+)\\.${escape(key)}$`);
  let depth = 0;
  for (const n of names) {
    const m = re.exec(n);
    if (m) depth = Math.max(depth, Number(m[1]) + 1);
  }
  return depth;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
