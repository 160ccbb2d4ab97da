// `cytotune embed --checkpoint FILE [--family F] [--heads H] [--activation A] [--engine E] [--backend B]
//                 [--batch N] (--image IMG... | --tensor X.npy) [--output OUT.npy|OUT.json]`
// Embeddings of images (evaluation preprocessing of the detected family) or of an already
// normalised float32 NCHW .npy batch, one row per input. Without --output, prints JSON.
// --engine auto (default) runs ONNX Runtime when onnxruntime-node is installed, else tfjs on
// --backend; the exported graph is cached by checkpoint sha256 (src/worker/onnx).
// Bad input ends with exit code 1 (2 for usage errors) and a one-line reason on stderr.
import { writeFileSync, readFileSync } from 'node:fs';
import { selectBackend, type BackendName } from '../backend/selectBackend';
import { isCheckpointError } from '../checkpoint/errors';
import type { EncoderConfig, FamilyName } from '../model/encoder';
import { FAMILIES } from '../model/families';
import { formatNpy, parseNpy } from '../model/npy';
import { checkpointConfig, createInferenceEngine, EngineError, parseEngineChoice, type EngineChoice, type InferenceEngine } from '../onnx/engine';
import type { OrtImporter } from '../onnx/ortRuntime';
import { loadImageBatch } from '../preprocess/loadImages';
import type { CommandIo } from './doctor';

const USAGE = 'usage: cytotune embed --checkpoint FILE [--family F] [--heads H] [--activation gelu|quick_gelu] [--engine auto|tfjs|onnx|onnx-int8] [--backend tensorflow|wasm|cpu] [--batch N] (--image IMG... | --tensor X.npy) [--output OUT.npy|OUT.json]';

/** Injection points for tests (onnxruntime-node cannot be uninstalled inside a test run). */
export interface EmbedDeps {
  importOnnx?: OrtImporter;
  /** Folder of cached ONNX graphs (default: the user cache folder). */
  onnxCacheDir?: string | null;
}

interface EmbedArgs {
  checkpoint: string;
  family?: FamilyName;
  heads?: number;
  activation?: 'gelu' | 'quick_gelu';
  backend?: BackendName;
  engine: EngineChoice;
  batch: number;
  images: string[];
  tensor?: string;
  output?: string;
}

class UsageError extends Error {}
class InputError extends Error {}

function parseArgs(argv: string[]): EmbedArgs {
  const a: Partial<EmbedArgs> & { images: string[] } = { images: [], batch: 8, engine: 'auto' };
  const value = (i: number, flag: string) => {
    const v = argv[i];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    switch (f) {
      case '--checkpoint': a.checkpoint = value(++i, f); break;
      case '--family': {
        const v = value(++i, f);
        if (!FAMILIES.includes(v as FamilyName)) throw new UsageError(`--family must be one of ${FAMILIES.join(', ')} (got ${v})`);
        a.family = v as FamilyName;
        break;
      }
      case '--heads': case '--batch': {
        const v = Number(value(++i, f));
        if (!Number.isInteger(v) || v < 1) throw new UsageError(`${f} must be a positive integer`);
        if (f === '--heads') a.heads = v;
        else a.batch = v;
        break;
      }
      case '--activation': {
        const v = value(++i, f);
        if (v !== 'gelu' && v !== 'quick_gelu') throw new UsageError(`--activation must be gelu or quick_gelu (got ${v})`);
        a.activation = v;
        break;
      }
      case '--backend': {
        const v = value(++i, f);
        if (v !== 'tensorflow' && v !== 'wasm' && v !== 'cpu') throw new UsageError(`--backend must be tensorflow, wasm or cpu (got ${v})`);
        a.backend = v;
        break;
      }
      case '--engine': {
        const v = value(++i, f);
        try {
          a.engine = parseEngineChoice(v);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        break;
      }
      case '--image':
        a.images.push(value(++i, f));
        while (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) a.images.push(argv[++i]);
        break;
      case '--tensor': a.tensor = value(++i, f); break;
      case '--output': a.output = value(++i, f); break;
      default: throw new UsageError(`unknown argument ${f}`);
    }
  }
  if (!a.checkpoint) throw new UsageError('--checkpoint is required');
  if ((a.images.length > 0) === (a.tensor !== undefined)) throw new UsageError('give either --image IMG... or --tensor X.npy');
  if (a.output && !/\.(npy|json)$/i.test(a.output)) throw new UsageError('--output must end in .npy or .json');
  return a as EmbedArgs;
}

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
      throw new InputError(`${args.tensor}: shape (${arr.shape.join(', ')}) but this ${cfg.family} model needs normalised float32 (N, 3, ${s}, ${s})`);
    }
    return { data: arr.data, n: shape[0] };
  }
  try {
    return { data: await loadImageBatch(args.images, cfg), n: args.images.length };
  } catch (err) {
    throw new InputError((err as Error).message);
  }
}

export async function runEmbed(argv: string[], io: CommandIo, deps: EmbedDeps = {}): Promise<number> {
  let args: EmbedArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    io.err(`embed: ${(err as Error).message}. ${USAGE}`);
    return 2;
  }
  let engine: InferenceEngine | undefined;
  try {
    // tfjs runs the model (--engine tfjs or fallback) or reads the weights for an ONNX export.
    const choice = await selectBackend({ only: args.backend });
    const loadOptions = { family: args.family, heads: args.heads, activation: args.activation };
    // Inputs are checked against the detected configuration before any weights are loaded.
    const cfg = checkpointConfig(args.checkpoint, loadOptions);
    const { data, n } = await readInputs(args, cfg);
    engine = await createInferenceEngine({
      engine: args.engine,
      checkpoint: args.checkpoint,
      loadOptions,
      maxBatch: args.batch,
      importer: deps.importOnnx,
      cacheDir: deps.onnxCacheDir,
    });
    const emb = await engine.run(data, n);
    const d = cfg.outputDim;
    const rows = Array.from({ length: n }, (_, i) => Array.from(emb.subarray(i * d, (i + 1) * d)));
    const inputs = args.tensor ? rows.map((_, i) => `${args.tensor}[${i}]`) : args.images;
    if (args.output?.toLowerCase().endsWith('.npy')) {
      writeFileSync(args.output, formatNpy({ shape: [n, d], data: emb }));
    } else {
      const doc = JSON.stringify({ checkpoint: args.checkpoint, family: cfg.family, engine: engine.name, runtime: engine.detail, backend: choice.backend, dim: d, inputs, embeddings: rows });
      if (args.output) writeFileSync(args.output, doc);
      else io.out(doc);
    }
    if (args.output) io.err(`embed: wrote ${n} x ${d} ${cfg.family} embeddings to ${args.output} (engine ${engine.name}: ${engine.detail}; tfjs backend ${choice.backend})`);
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
