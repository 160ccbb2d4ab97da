// The options of every command that runs a trained run's model (predict, classify): where the
// base checkpoint is now, the batch size, the engine and the tfjs backend. One declaration, so
// the commands parse and describe them alike.
import { BACKEND_NAMES, ENGINE_CHOICES } from '../shared/jobs';

export const RUN_MODEL_OPTIONS = {
  checkpoint: { type: 'string' },
  batch: { type: 'int', min: 1 },
  engine: { type: 'string', choices: ENGINE_CHOICES },
  backend: { type: 'string', choices: BACKEND_NAMES },
} as const;

/** Their synopsis, as both commands' usage lines end. */
export const RUN_MODEL_SYNOPSIS =
  '[--checkpoint FILE] [--batch N] [--engine auto|tfjs|onnx|onnx-int8] [--backend tensorflow|webgpu|wasm|cpu]';
