// What int8 changes in a ViT's embeddings, for the int8 benches (int8.ts, int8-agreement.ts):
// top-1 agreement and largest probability change under a seeded random 10-class head, and the
// embedding error relative to the embeddings' size and to their spread across images. Also the
// seeded noise images both benches feed (the same sequence in every process).

export const CLASSES = 10;

/** Seeded pseudo-random images for call number `call` (the same in every process). */
export function images(call: number, n: number, s: number): Float32Array {
  const out = new Float32Array(n * 3 * s * s);
  let x = (12345 + call * 7919) >>> 0;
  for (let i = 0; i < out.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = ((x >>> 8) / 2 ** 24) * 4 - 2;
  }
  return out;
}

/**
 * Top-1 agreement and max |dp| of softmax(e W) for a seeded random head W [d, CLASSES]; the
 * embedding error relative to the embeddings' size and to their spread across images (how far
 * apart the images are: random weights on noise images put them close, so small errors flip
 * a random head's near-ties).
 */
export function agreement(a: ArrayLike<number>, b: ArrayLike<number>, d: number) {
  let x = 99991;
  const W = Float64Array.from({ length: d * CLASSES }, () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (((x >>> 8) / 2 ** 24) * 2 - 1) * Math.sqrt(3 / d); // uniform, variance 1/d
  });
  const probs = (e: ArrayLike<number>, i: number) => {
    const z = Array.from({ length: CLASSES }, (_, c) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += e[i * d + k] * W[k * CLASSES + c];
      return s;
    });
    const m = Math.max(...z);
    const ex = z.map((v) => Math.exp(v - m));
    const sum = ex.reduce((p, q) => p + q, 0);
    return ex.map((v) => v / sum);
  };
  const n = a.length / d;
  let same = 0;
  let maxProbDiff = 0;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const [pa, pb] = [probs(a, i), probs(b, i)];
    if (pa.indexOf(Math.max(...pa)) === pb.indexOf(Math.max(...pb))) same++;
    pa.forEach((p, c) => (maxProbDiff = Math.max(maxProbDiff, Math.abs(p - pb[c]))));
  }
  const mean = new Float64Array(d);
  for (let i = 0; i < a.length; i++) mean[i % d] += a[i] / n;
  let spread = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += a[i] ** 2;
    spread += (a[i] - mean[i % d]) ** 2;
  }
  return { n, top1Agreement: same / n, maxProbDiff, embeddingRelError: Math.sqrt(num / den), errorToSpread: Math.sqrt(num / spread) };
}
