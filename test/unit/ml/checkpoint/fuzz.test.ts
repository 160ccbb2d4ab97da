// Seeded fuzzing of the readers with truncated and bit-flipped copies of the real fixtures.
// Whatever the damage, opening and reading must end in success or a one-line CheckpointError,
// quickly and in bounded memory: never a hang, a crash, or a TypeError/RangeError escaping.
// A failure names its seed and mutation, so it can be replayed with `mutate(bytes, seed)`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../../support/encoderFixtures';
import { mutate } from '../../../support/fuzzMutate';
import { probe } from '../../../support/checkpointProbe';

const dir = mkdtempSync(join(tmpdir(), 'ckpt-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FILES = [
  'timm-vit.safetensors',
  'hf-clip.bf16.safetensors',
  'timm-vit.pth',
  'hf-vit.fp16.bin',
  'open-clip-timm.bin',
  'openai-clip.torchscript.pt',
];
const CASES_PER_FILE = 60;

describe('fuzzed checkpoints', () => {
  for (const [i, file] of FILES.entries()) {
    it(`${CASES_PER_FILE} damaged copies of ${file} each open or fail with a CheckpointError`, () => {
      const original = new Uint8Array(readFileSync(fixturePath(file)));
      const path = join(dir, file);
      const outcomes = new Map<string, number>();
      const rss0 = process.memoryUsage().rss;
      for (let c = 0; c < CASES_PER_FILE; c++) {
        const seed = 1000 * (i + 1) + c;
        const { bytes, what } = mutate(original, seed);
        writeFileSync(path, bytes);
        let r;
        try {
          r = probe(path);
        } catch (err) {
          throw new Error(`${file} seed ${seed} (${what}): ${(err as Error).stack}`);
        }
        const where = `${file} seed ${seed} (${what}): ${r.outcome} ${r.message}`;
        expect(r.seconds, where).toBeLessThan(2);
        if (r.outcome !== 'ok') {
          expect(r.message.startsWith(`${path}: `), where).toBe(true);
          expect(r.message, where).not.toContain('\n');
        }
        outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
      }
      expect((process.memoryUsage().rss - rss0) / 2 ** 20).toBeLessThan(300);
      // The mutations must reach the parsers, not only the tensor bytes.
      expect([...outcomes.keys()].filter((k) => k !== 'ok').length).toBeGreaterThan(0);
    });
  }
});
