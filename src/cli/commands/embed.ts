// `cytotune embed`: embeddings of images or of an already normalised NCHW .npy batch, one row per
// input, from any supported checkpoint; the exported ONNX graph is cached by checkpoint sha256.
// Bad input ends with exit code 1 (2 for usage errors) and a one-line reason on stderr.
import { writeFileSync, readFileSync } from 'node:fs';
import { selectBackend } from '../../ml/backend/selectBackend';
import { isCheckpointError } from '../../ml/checkpoint/errors';
import type { EncoderConfig } from '../../ml/models/encoder';
import { FAMILY_NAMES } from '../../ml/models/registry';
import { formatNpy, parseNpy } from '../../ml/checkpoint/npy';
import { checkpointConfig, createInferenceEngine, EngineError, type InferenceEngine } from '../../ml/inference/engine';
import type { OrtImporter } from '../../ml/inference/ortRuntime';
import { loadImageBatch } from '../../ml/data/loadImages';
import { headsExplanation } from '../../ml/training/modelCard';
import { BACKEND_NAMES, ENGINE_CHOICES, type BackendName } from '../../shared/jobs';
import { UsageError, type Values } from '../args';
import { defineCommand } from '../command';
import type { Io } from '../io';

/** Injection points for tests (onnxruntime-node cannot be uninstalled inside a test run). */
export interface EmbedDeps {
  importOnnx?: OrtImporter;
  /** Folder of cached ONNX graphs (default: the user cache folder). */
  onnxCacheDir?: string | null;
}

const OPTIONS = {
  checkpoint: { type: 'string', required: true },
  family: { type: 'string', choices: FAMILY_NAMES },
  heads: { type: 'int', min: 1 },
  activation: { type: 'string', choices: ['gelu', 'quick_gelu'] },
  engine: { type: 'string', choices: ENGINE_CHOICES },
  backend: { type: 'string', choices: BACKEND_NAMES },
  batch: { type: 'int', min: 1 },
  image: { type: 'repeated', greedy: true },
  tensor: { type: 'string' },
  output: { type: 'string' },
} as const;

type EmbedArgs = Values<typeof OPTIONS>;

class InputError extends Error {}

export const command = defineCommand({
  name: 'embed',
  summary: 'embeddings of images or of a normalised .npy batch',
  usage:
    'usage: cytotune embed --checkpoint FILE [--family F] [--heads H] [--activation gelu|quick_gelu] [--engine auto|tfjs|onnx|onnx-int8] ' +
    '[--backend tensorflow|webgpu|wasm|cpu] [--batch N] (--image IMG... | --tensor X.npy) [--output OUT.npy|OUT.json]\n' +
    'Images get the evaluation preprocessing of the detected family; --tensor takes normalised float32 (N, 3, S, S). Without --output, prints JSON.\n' +
    'The attention head count is not in a checkpoint: --heads, else config.json / open_clip_config.json beside it, else width / 64; stderr says which.\n' +
    '--engine auto (default) runs ONNX Runtime when onnxruntime-node is installed, else tfjs on --backend. --batch: images per forward pass (8).',
  options: OPTIONS,
  async main({ values }, io, deps: EmbedDeps) {
    if (values.image.length > 0 === (values.tensor !== undefined)) throw new UsageError('give either --image IMG... or --tensor X.npy');
    if (values.output && !/\.(npy|json)$/i.test(values.output)) throw new UsageError('--output must end in .npy or .json');
    return embed(values, io, deps);
  },
});

/** `runEmbed(argv, io, deps)`: tests inject the ONNX Runtime importer and cache folder. */
export const runEmbed = command.run;

/** Reads the input batch: [N, 3, S, S] float32, checked against the encoder's image size. */
async function readInputs(args: EmbedArgs, cfg: EncoderConfig): Promise<{ data: Float32Array; n: number }> {
  const s = cfg.imageSize;
  if (args.tensor) {
    let arr;
    try {
      arr = parseNpy(readFileSync(args.tensor), args.tensor);
    } catch (err) {
      throw new InputError((err as NodeJS.ErrnoException).code === 'ENOENT' ? `${args.tensor}: file not found` : (err as Error).message);
    }
    const shape = arr.shape.length === 3 ? [1, ...arr.shape] : arr.shape;
    if (shape.length !== 4 || shape[1] !== 3 || shape[2] !== s || shape[3] !== s) {
      throw new InputError(
        `${args.tensor}: shape (${arr.shape.join(', ')}) but this ${cfg.family} model needs normalised float32 (N, 3, ${s}, ${s})`,
      );
    }
    return { data: arr.data, n: shape[0] };
  }
  try {
    return { data: await loadImageBatch(args.image, cfg), n: args.image.length };
  } catch (err) {
    throw new InputError((err as Error).message);
  }
}

async function embed(args: EmbedArgs, io: Io, deps: EmbedDeps): Promise<number> {
  let engine: InferenceEngine | undefined;
  try {
    // tfjs runs the model (--engine tfjs or fallback) or reads the weights for an ONNX export.
    const choice = await selectBackend({ only: args.backend as BackendName | undefined });
    const loadOptions = { family: args.family, heads: args.heads, activation: args.activation };
    // Inputs are checked against the detected configuration before any weights are loaded.
    const cfg = checkpointConfig(args.checkpoint!, loadOptions);
    const { data, n } = await readInputs(args, cfg);
    engine = await createInferenceEngine({
      engine: args.engine ?? 'auto',
      checkpoint: args.checkpoint!,
      loadOptions,
      maxBatch: args.batch ?? 8,
      importer: deps.importOnnx,
      cacheDir: deps.onnxCacheDir,
    });
    const emb = await engine.run(data, n);
    const d = cfg.outputDim;
    const rows = Array.from({ length: n }, (_, i) => Array.from(emb.subarray(i * d, (i + 1) * d)));
    const inputs = args.tensor ? rows.map((_, i) => `${args.tensor}[${i}]`) : args.image;
    if (args.output?.toLowerCase().endsWith('.npy')) {
      writeFileSync(args.output, formatNpy({ shape: [n, d], data: emb }));
    } else {
      const doc = JSON.stringify({
        checkpoint: args.checkpoint,
        family: cfg.family,
        engine: engine.name,
        runtime: engine.detail,
        backend: choice.backend,
        dim: d,
        heads: cfg.heads,
        headsSource: cfg.headsSource,
        inputs,
        embeddings: rows,
      });
      if (args.output) writeFileSync(args.output, doc);
      else io.out(doc);
    }
    if (args.output)
      io.err(
        `embed: wrote ${n} x ${d} ${cfg.family} embeddings to ${args.output} (engine ${engine.name}: ${engine.detail}; tfjs backend ${choice.backend}); ${headsExplanation(cfg)}`,
      );
    // Checkpoints do not record the head count: say which was used and why (also without --output).
    else io.err(`embed: ${headsExplanation(cfg)}`);
    return 0;
  } catch (err) {
    if (isCheckpointError(err) || err instanceof EngineError) {
      io.err(`embed: ${err.kind}: ${err.message.replace(/\n\s*/g, ' | ')}`);
      return 1;
    }
    if (err instanceof InputError) {
      io.err(`embed: ${err.message}`);
      return 1;
    }
    io.err(`embed: ${(err as Error).message?.split('\n')[0] ?? String(err)}`);
    return 1;
  } finally {
    await engine?.dispose();
  }
}
