import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureData, herlevDir } from '../../support/paths';
import koffi from 'koffi';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../../src/slides/decodeImage';
import { argbToRgb } from '../../../src/slides/argb';
import { loadOpenSlide, openWithOpenSlide } from '../../../src/slides/openslide';
import { openWithSharp } from '../../../src/slides/sharpReader';
import { openSlide } from '../../../src/slides/slideOpener';
import { SlideOpenError, SlideReadError, type SlideReader } from '../../../src/slides/types';
import { meanAbsDiff, SLIDE, tempDir, writePyramidTiff } from '../../support/slideHelpers';
import { longestStall } from '../../support/loopStall';

const dir = tempDir('readers');
const PYRAMID = join(dir, 'pyramid.tif');
const opened: SlideReader[] = [];
async function open(path: string, prefer?: 'openslide' | 'sharp') {
  const r = await openSlide(path, { prefer });
  opened.push(r);
  return r;
}

beforeAll(async () => {
  await writePyramidTiff(PYRAMID);
});
afterAll(() => opened.forEach((r) => r.close()));

describe('OpenSlide binding (koffi over libopenslide.so.0)', () => {
  it('loads the library and reports its version', () => {
    const load = loadOpenSlide();
    expect(load.ok).toBe(true);
    if (load.ok) expect(load.lib.version).toMatch(/^\d+\.\d+\.\d+/);
    // OpenSlide's decoders run on koffi's own stack: async calls get 2 MiB, not koffi's 128 KiB.
    expect(koffi.config().async_stack_size).toBeGreaterThanOrEqual(2 * 1024 * 1024);
  });

  it('reads levels, properties, mpp, vendor, objective power and associated images of the real SVS', async () => {
    const r = await open(SLIDE);
    expect(r.readerName).toBe('openslide');
    expect(r.dimensions).toEqual([2220, 2967]);
    expect(r.levelCount).toBe(1);
    expect(r.levelDownsamples).toEqual([1]);
    expect(r.mpp).toEqual({ x: 0.499, y: 0.499 });
    expect(r.vendor).toBe('aperio');
    expect(r.objectivePower).toBe(20);
    expect(r.properties['aperio.AppMag']).toBe('20');
    expect([...r.associatedImageNames].sort()).toEqual(['label', 'macro', 'thumbnail']);
    const thumb = await r.readAssociatedImage('thumbnail');
    expect([thumb.width, thumb.height, thumb.data.length]).toEqual([574, 768, 574 * 768 * 3]);
    await expect(r.readAssociatedImage('nope')).rejects.toBeInstanceOf(SlideReadError);
  });

  it('read_region gives RGB; outside the slide is the white background', async () => {
    const r = await open(SLIDE);
    const inside = await r.readRegion(0, 1000, 1200, 64, 48);
    expect([inside.width, inside.height, inside.data.length]).toEqual([64, 48, 64 * 48 * 3]);
    expect(new Set(inside.data).size).toBeGreaterThan(50); // tissue, not a flat fill
    const edge = await r.readRegion(0, 2200, 2950, 40, 40); // 20 x 17 px of slide, the rest outside
    expect([...edge.data.subarray(-3)]).toEqual([255, 255, 255]);
    await expect(r.readRegion(1, 0, 0, 10, 10)).rejects.toThrow(RangeError);
  });

  it('reads run off the event loop: a whole-slide read leaves timers running', async () => {
    const r = await open(SLIDE);
    const { longestGap: worstGap, took } = await longestStall(() => r.readRegion(0, 0, 0, 2220, 2967));
    // The native read takes hundreds of ms; only the ARGB->RGB pass (~30 ms) runs on the loop.
    expect(took).toBeGreaterThan(worstGap * 2);
  });

  it('a large region read in parallel bands equals one single OpenSlide read_region', async () => {
    const r = await open(SLIDE);
    const load = loadOpenSlide();
    if (!load.ok) throw new Error(load.message);
    const osr = load.lib.open(SLIDE)!;
    const [x, y, w, h] = [-7, 13, 2220, 2967]; // 6.6 MP: 7 bands; partly outside the slide
    const single = new Uint8Array(w * h * 4);
    load.lib.readRegionSync(osr, single, x, y, 0, w, h);
    load.lib.close(osr);
    const banded = await r.readRegion(0, x, y, w, h);
    expect(Buffer.from(banded.data).equals(Buffer.from(argbToRgb(single, w * h, [255, 255, 255])))).toBe(true);
  });

  it('hundreds of concurrent reads (beyond the 256 async calls koffi can queue) all complete', async () => {
    const r = await open(SLIDE);
    const reads = await Promise.all(Array.from({ length: 300 }, (_, i) => r.readRegion(0, (i * 37) % 2000, (i * 53) % 2700, 32, 32)));
    expect(reads.every((x) => x.data.length === 32 * 32 * 3)).toBe(true);
  });

  it('close waits for reads in flight, and later reads are refused', async () => {
    const r = await openWithOpenSlide(SLIDE);
    const reads = Array.from({ length: 6 }, (_, i) => r.readRegion(0, i * 300, i * 300, 256, 256));
    r.close();
    const done = await Promise.all(reads);
    expect(done.every((d) => d.data.length === 256 * 256 * 3)).toBe(true);
    await expect(r.readRegion(0, 0, 0, 8, 8)).rejects.toBeInstanceOf(SlideReadError);
  });
});

describe('sharp fallback reader agrees with OpenSlide', () => {
  it('reads the same geometry and metadata from the SVS (JPEG tiles of page 0)', async () => {
    const s = await open(SLIDE, 'sharp');
    expect(s.readerName).toBe('sharp');
    expect([s.dimensions, s.levelCount, s.mpp, s.vendor, s.objectivePower]).toEqual([
      [2220, 2967],
      1,
      { x: 0.499, y: 0.499 },
      'aperio',
      20,
    ]);
    expect([...s.associatedImageNames]).toEqual(['label', 'macro', 'thumbnail']);
    const label = await s.readAssociatedImage('label');
    expect([label.width, label.height]).toEqual([387, 463]);
  });

  it('regions read by both readers differ by less than 3 grey levels per channel (level 0 and across the edge)', async () => {
    const o = await open(SLIDE);
    const s = await open(SLIDE, 'sharp');
    for (const [x, y, w, h] of [
      [0, 0, 256, 256],
      [1033, 1517, 300, 200],
      [2100, 2900, 256, 256],
      [-40, -40, 100, 100],
    ]) {
      const mad = meanAbsDiff(await o.readRegion(0, x, y, w, h), await s.readRegion(0, x, y, w, h));
      expect(Math.max(...mad), `region ${x},${y}`).toBeLessThan(3);
    }
  });

  it('a pyramidal tiled TIFF opens with 5 levels in both readers, with the same downsamples and mpp', async () => {
    const o = await open(PYRAMID);
    const s = await open(PYRAMID, 'sharp');
    expect(o.readerName).toBe('openslide');
    expect(o.vendor).toBe('generic-tiff');
    expect(s.levelDimensions).toEqual(o.levelDimensions);
    expect(o.levelDimensions.map((d) => d[0])).toEqual([2220, 1110, 555, 277, 138]);
    s.levelDownsamples.forEach((d, i) => expect(d).toBeCloseTo(o.levelDownsamples[i], 9));
    expect(o.mpp!.x).toBeCloseTo(0.499, 4);
    expect(s.mpp!.x).toBeCloseTo(0.499, 4);
    for (const level of [0, 1]) {
      const mad = meanAbsDiff(await o.readRegion(level, 400, 802, 200, 150), await s.readRegion(level, 400, 802, 200, 150));
      expect(Math.max(...mad), `level ${level}`).toBeLessThan(3);
    }
  });
});

describe('plain images open as one-level slides', () => {
  it('PNG, BMP, JPEG and untiled TIFF give reader "image" and the decoded pixels', async () => {
    const png = join(fixtureData, 'cric-cervix-100px/LSIL/37.png');
    const bmpDir = join(herlevDir, 'normal_columnar');
    const { readdirSync } = await import('node:fs');
    const bmp = join(
      bmpDir,
      readdirSync(bmpDir).find((f) => f.toLowerCase().endsWith('.bmp'))!,
    );
    const jpeg = join(dir, 'field.jpg');
    const tiff = join(dir, 'field.tif');
    await sharp(SLIDE).extract({ left: 500, top: 500, width: 300, height: 200 }).jpeg().toFile(jpeg);
    await sharp(SLIDE).extract({ left: 500, top: 500, width: 300, height: 200 }).tiff({ compression: 'lzw' }).toFile(tiff);
    for (const file of [png, bmp, jpeg, tiff]) {
      const r = await open(file);
      const ref = await decodeImage(file);
      expect(r.readerName, file).toBe('image');
      expect([r.levelCount, r.dimensions, r.mpp]).toEqual([1, [ref.width, ref.height], null]);
      const all = await r.readRegion(0, 0, 0, ref.width, ref.height);
      expect(Buffer.from(all.data).equals(Buffer.from(ref.data)), file).toBe(true);
      const shifted = await r.readRegion(0, ref.width - 5, -2, 10, 4); // 5 x 2 px inside, the rest white
      expect([...shifted.data.subarray(0, 3)]).toEqual([255, 255, 255]);
      expect([...shifted.data.subarray(2 * 10 * 3, 2 * 10 * 3 + 3)]).toEqual([
        ...ref.data.subarray((ref.width - 5) * 3, (ref.width - 5) * 3 + 3),
      ]);
    }
  });
});

describe('files that cannot be opened get a clear error naming the file and the reason', () => {
  const cases: [string, () => string, RegExp][] = [
    ['missing file', () => join(dir, 'missing.svs'), /file not found/],
    ['directory', () => dir, /not a regular file/],
    [
      'text named .svs',
      () => (writeFileSync(join(dir, 'text.svs'), 'not a slide\n'), join(dir, 'text.svs')),
      /not a valid \.svs whole-slide image/,
    ],
    [
      'truncated SVS',
      () => (writeFileSync(join(dir, 'cut.svs'), readFileSync(SLIDE).subarray(0, 600_000)), join(dir, 'cut.svs')),
      /truncated TIFF/,
    ],
    ['text named .png', () => (writeFileSync(join(dir, 'text.png'), 'not an image\n'), join(dir, 'text.png')), /not a readable image/],
  ];
  for (const [name, make, reason] of cases) {
    for (const prefer of ['openslide', 'sharp'] as const) {
      it(`${name} (${prefer})`, async () => {
        const path = make();
        const err = await openSlide(path, { prefer }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(SlideOpenError);
        expect((err as SlideOpenError).kind).toBe('unreadable-slide');
        expect((err as Error).message).toContain(path);
        expect((err as Error).message).toMatch(reason);
      });
    }
  }

  it('OpenSlide itself refuses a non-slide file with its own reason', async () => {
    mkdirSync(join(dir, 'x'), { recursive: true });
    const path = join(dir, 'x', 'text.svs');
    writeFileSync(path, 'hello');
    await expect(openWithOpenSlide(path)).rejects.toThrow(/Cannot open slide .*text\.svs: not a whole-slide format OpenSlide recognises/);
    await expect(openWithSharp(path)).rejects.toThrow(/Cannot open slide .*text\.svs: not a TIFF file/);
  });
});
