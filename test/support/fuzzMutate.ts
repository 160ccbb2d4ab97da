// Seeded damage for fuzz.test.ts, in its own module so a failing seed can be replayed by hand:
//   writeFileSync(out, mutate(readFileSync(fixture), seed).bytes)
import { Rng } from '../../src/ml/random';

/**
 * A damaged copy of `bytes`: a truncation, or 1-8 byte changes. Most bytes of a checkpoint are
 * tensor data, where damage is harmless, so changes favour the structure: the first 6 KB (the
 * safetensors header; data.pkl, which torch writes first) and the last 4 KB (the zip directory).
 */
export function mutate(bytes: Uint8Array, seed: number): { bytes: Uint8Array; what: string } {
  const random = new Rng(seed);
  const r = () => random.next();
  const int = (n: number) => Math.floor(r() * n);
  if (r() < 0.25) {
    const len = r() < 0.5 ? int(Math.min(bytes.length, 6144)) : int(bytes.length);
    return { bytes: bytes.slice(0, len), what: `truncated to ${len}` };
  }
  const out = bytes.slice();
  const changes: string[] = [];
  for (let k = 1 + int(8); k > 0; k--) {
    const zone = r();
    const at =
      zone < 0.45 ? int(Math.min(out.length, 6144)) : zone < 0.75 ? out.length - 1 - int(Math.min(out.length, 4096)) : int(out.length);
    const value = r() < 0.5 ? out[at] ^ (1 << int(8)) : int(256);
    changes.push(`[${at}] ${out[at]}->${value}`);
    out[at] = value;
  }
  return { bytes: out, what: changes.join(', ') };
}
