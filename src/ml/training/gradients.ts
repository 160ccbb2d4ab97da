// One micro-batch's contribution to the gradient: sum of per-image cross-entropies divided by
// the size of the whole optimiser batch, so summing micro-batches gives the batch mean
// (torch's F.cross_entropy with reduction 'mean' on the full batch).
import * as tf from '@tensorflow/tfjs-core';
// Side effect: registers tfjs-core's gradient functions (see registerGradients.ts).
import './registerGradients';

export interface MicroResult {
  /** Sum of per-image losses in this micro-batch (not divided). */
  lossSum: number;
  /** Images whose arg-max logit is the label. */
  correct: number;
  /** d(lossSum / batchSize) / d(variable), one per variable, owned by the caller. */
  grads: tf.Tensor[];
}

/** logits [N, C], labels [N] -> per-image -log softmax(logits)[label], [N]. */
export function crossEntropyPerImage(logits: tf.Tensor2D, labels: number[]): tf.Tensor1D {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), logits.shape[1]);
    return tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1)) as tf.Tensor1D;
  });
}

export function microBatchGrads(vars: tf.Variable[], forward: () => tf.Tensor2D, labels: number[], batchSize: number): MicroResult {
  let lossSum: tf.Tensor | null = null;
  let preds: tf.Tensor | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const logits = forward();
    const perImage = crossEntropyPerImage(logits, labels);
    lossSum = tf.keep(tf.sum(perImage));
    preds = tf.keep(tf.argMax(logits, 1));
    return tf.div(tf.sum(perImage), batchSize) as tf.Scalar;
  }, vars);
  value.dispose();
  const out = vars.map((v) => {
    const g = grads[v.name];
    if (!g) throw new Error(`no gradient for variable ${v.name}: it does not reach the loss`);
    return g;
  });
  const ls = (lossSum as unknown as tf.Tensor).dataSync()[0];
  const p = (preds as unknown as tf.Tensor).dataSync();
  tf.dispose([lossSum as unknown as tf.Tensor, preds as unknown as tf.Tensor]);
  let correct = 0;
  labels.forEach((l, i) => (correct += p[i] === l ? 1 : 0));
  return { lossSum: ls, correct, grads: out };
}

/** acc + g elementwise; disposes both inputs' tensors (acc may be null for the first micro-batch). */
export function accumulate(acc: tf.Tensor[] | null, g: tf.Tensor[]): tf.Tensor[] {
  if (!acc) return g;
  const sum = acc.map((a, i) => tf.add(a, g[i]));
  tf.dispose(acc);
  tf.dispose(g);
  return sum;
}
