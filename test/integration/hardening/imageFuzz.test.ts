// Seeded damage to real image and slide files (truncations and byte flips, as fuzz.test.ts does
// for checkpoints): every reader either succeeds or fails with its typed error, within a time
// budget and bounded memory; none hangs or takes the process down.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImageBytes } from '../../../src/slides/decodeImage';
import { slideThumbnail } from '../../../src/slides/patches';
import { openSlide } from '../../../src/slides/slideOpener';
import { mutate } from '../../support/fuzzMutate';
import { fixtureData, herlevDir, slidePath, tempDir } from '../../support/paths';

/** A failure is expected when it is one of the readers' own errors, with a kind and a message. */
function expectTyped(err: unknown, what: string): void {
  const e = err as Error & { kind?: unknown };
  expect(typeof e?.kind, `${what}: ${String(e?.message ?? err).slice(0, 200)}`).toBe('string');
  expect(e.message.length, what).toBeGreaterThan(0);
}

async function timed<T>(what: string, fn: () => Promise<T>): Promise<void> {
  const t0 = performance.now();
  await fn().catch((err: unknown) => expectTyped(err, what));
  expect(performance.now() - t0, `${what} took too long`).toBeLessThan(5000);
}

describe('image and slide readers under seeded damage', () => {
  const bmp = readFileSync(join(herlevDir, 'normal_columnar', readdirSync(join(herlevDir, 'normal_columnar')).sort()[0]));
  const png = readFileSync(join(fixtureData, 'cric-cervix-100px/LSIL/37.png'));

  it('decoding damaged BMP, PNG and JPEG files: a typed error or pixels, 240 cases', async () => {
    const jpeg = await sharp(png).jpeg({ quality: 80 }).toBuffer();
    const rssBefore = process.memoryUsage().rss;
    for (const [name, bytes] of [
      ['bmp', bmp],
      ['png', png],
      ['jpeg', jpeg],
    ] as const) {
      for (let seed = 1; seed <= 80; seed++) {
        const damaged = mutate(bytes, seed);
        await timed(`${name} seed ${seed} (${damaged.what})`, () => decodeImageBytes(damaged.bytes, `${name}-${seed}`));
      }
    }
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(500 * 2 ** 20);
  });

  it('opening and reading damaged copies of the SVS: a typed error or pixels, 40 cases', async () => {
    const svs = readFileSync(slidePath);
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    for (let seed = 1; seed <= 40; seed++) {
      const damaged = mutate(svs, seed);
      const path = join(dir, `damaged-${seed}.svs`);
      writeFileSync(path, damaged.bytes);
      await timed(`svs seed ${seed} (${damaged.what})`, async () => {
        const reader = await openSlide(path);
        try {
          await reader.readRegion(0, 1000, 1000, 256, 256);
          await slideThumbnail(reader, 256);
        } finally {
          reader.close();
        }
      });
    }
  });
});
