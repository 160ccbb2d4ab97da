// Does the int8 graph classify like the fp32 one on these images? The check a caller runs
// (and stores, e.g. beside a trained run) before `auto` may use --engine onnx-int8: int8 error
// depends on the weights and on the activations' range (per-tensor dynamic quantization), so
// it is measured on the user's model and images, not assumed.
//
//   const a = await int8Agreement(fp32Engine, int8Engine, nchw); // both built with the same head
//   if (int8AgreementPassed(a)) store({ engine: 'onnx-int8', agreement: a });
import { argmaxRows } from '../../shared/metrics';
import { DEFAULT_INT8_BAR, int8CheckPasses, type Int8Bar } from '../../shared/int8Check';
import type { InferenceEngine } from './engineTypes';

export { DEFAULT_INT8_BAR };

export interface Int8Agreement {
  /** Images compared. */
  n: number;
  /** Fraction of images whose top-1 class is the same under both engines. */
  top1Agreement: number;
  /** Largest |p_int8 - p_fp32| over all images and classes. */
  maxProbDiff: number;
}

/** What a caller should require before preferring int8 (defaults: the tests' bar). */
export type Int8AgreementBar = Int8Bar;

/** a, b: [n, c] probabilities of the same n images (fp32 and int8) -> their agreement. */
export function agreementOf(a: Float32Array, b: Float32Array, c: number): Int8Agreement {
  if (a.length !== b.length || c < 1 || a.length % c) throw new Error(`agreementOf: ${a.length} and ${b.length} values of ${c} classes`);
  const count = a.length / c;
  const [ta, tb] = [argmaxRows(a, c), argmaxRows(b, c)];
  let same = 0;
  for (let i = 0; i < count; i++) if (ta[i] === tb[i]) same++;
  let maxProbDiff = 0;
  for (let i = 0; i < a.length; i++) maxProbDiff = Math.max(maxProbDiff, Math.abs(a[i] - b[i]));
  return { n: count, top1Agreement: count ? same / count : 0, maxProbDiff };
}

/**
 * Runs `images` ([n, 3, S, S] float32 NCHW, normalised; n defaults to what the buffer holds)
 * through both engines, which must return probabilities (built with the same head).
 */
export async function int8Agreement(
  fp32: InferenceEngine,
  int8: InferenceEngine,
  images: Float32Array,
  n?: number,
): Promise<Int8Agreement> {
  for (const e of [fp32, int8])
    if (e.output !== 'probabilities') throw new Error(`int8Agreement: the ${e.name} engine has no head (it returns embeddings)`);
  if (fp32.outputSize !== int8.outputSize)
    throw new Error(`int8Agreement: ${fp32.outputSize} classes against ${int8.outputSize}: not the same head`);
  const S = fp32.config.imageSize;
  const count = n ?? Math.floor(images.length / (3 * S * S));
  if (count < 1) throw new Error('int8Agreement: no images');
  const [a, b] = [await fp32.run(images, count), await int8.run(images, count)]; // [count, c] each
  return agreementOf(a, b, fp32.outputSize);
}

export function int8AgreementPassed(a: Int8Agreement, bar: Int8AgreementBar = DEFAULT_INT8_BAR): boolean {
  return int8CheckPasses(a, bar);
}
