import { join } from 'node:path';
import { fixtureData } from '../../support/paths';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boxAroundCenter, extractPatch, PatchError, patchThumbnail, slideThumbnail } from '../../../src/slides/patches';
import { openSlide } from '../../../src/slides/slideOpener';
import type { SlideReader } from '../../../src/slides/types';
import { meanAbsDiff, SLIDE, tempDir, writePyramidTiff } from '../../support/slideHelpers';

const PYRAMID = join(tempDir('patches'), 'pyramid.tif');
let svs: SlideReader;
let pyr: SlideReader;
let png: SlideReader;
beforeAll(async () => {
  await writePyramidTiff(PYRAMID);
  svs = await openSlide(SLIDE);
  pyr = await openSlide(PYRAMID);
  png = await openSlide(join(fixtureData, 'cric-cervix-100px/LSIL/37.png'));
});
afterAll(() => [svs, pyr, png].forEach((r) => r.close()));

describe('patch extraction on the real slide', () => {
  it('a level-0 box without resampling is exactly the slide pixels', async () => {
    const p = await extractPatch(svs, { box: { x: 1000, y: 1500, w: 224, h: 224 } });
    const r = await svs.readRegion(0, 1000, 1500, 224, 224);
    expect([p.width, p.height]).toEqual([224, 224]);
    expect(Buffer.from(p.data).equals(Buffer.from(r.data))).toBe(true);
  });

  it('resamples to a target mpp: 448 px at 0.499 µm becomes 224 px at 0.998 µm', async () => {
    const box = { x: 800, y: 900, w: 448, h: 448 };
    const p = await extractPatch(svs, { box, targetMpp: 0.998 });
    expect([p.width, p.height]).toEqual([224, 224]);
    const ref = await sharp(Buffer.from((await svs.readRegion(0, 800, 900, 448, 448)).data), {
      raw: { width: 448, height: 448, channels: 3 },
    })
      .resize(224, 224, { kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    expect(Math.max(...meanAbsDiff(p, { data: new Uint8Array(ref), width: 224, height: 224 }))).toBeLessThan(0.5);
  });

  it('an explicit output size wins over the natural size, and a pyramid level is used when coarse enough', async () => {
    const box = { x: 400, y: 600, w: 1024, h: 1024 };
    const fromPyramid = await extractPatch(pyr, { box, outputSize: 128 }); // 8x: reads pyramid level 2 (downsample 4.002)
    const fromLevel0 = await extractPatch(svs, { box, outputSize: 128 });
    expect([fromPyramid.width, fromPyramid.height]).toEqual([128, 128]);
    expect(Math.max(...meanAbsDiff(fromPyramid, fromLevel0))).toBeLessThan(6);
    const wide = await extractPatch(svs, { box, outputSize: [200, 100] });
    expect([wide.width, wide.height, wide.data.length]).toEqual([200, 100, 200 * 100 * 3]);
  });

  it('a box centred on a click at a physical size has the right level-0 extent', () => {
    expect(boxAroundCenter(svs, 1000, 1000, 224)).toEqual({ x: 888, y: 888, w: 224, h: 224 });
    // 224 px at 0.5 µm = 112 µm = 224.45 level-0 px at 0.499 µm.
    expect(boxAroundCenter(svs, 1000, 1000, 224, 0.5)).toEqual({ x: 888, y: 888, w: 224, h: 224 });
    expect(boxAroundCenter(svs, 1000, 1000, 100, 2.0)).toEqual({ x: 800, y: 800, w: 401, h: 401 });
  });

  it('a box over the slide edge is padded with the white background', async () => {
    const p = await extractPatch(svs, { box: { x: -50, y: 2900, w: 100, h: 100 } });
    expect([...p.data.subarray(0, 3)]).toEqual([255, 255, 255]);
    expect([...p.data.subarray(p.data.length - 3)]).toEqual([255, 255, 255]);
  });

  it('a target mpp on an image without mpp is a value error naming the file; bad boxes are bugs', async () => {
    const err = await extractPatch(png, { box: { x: 0, y: 0, w: 50, h: 50 }, targetMpp: 0.5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PatchError);
    expect((err as PatchError).kind).toBe('slide-has-no-mpp');
    expect((err as Error).message).toContain('37.png');
    expect(() => boxAroundCenter(png, 10, 10, 20, 0.5)).toThrow(PatchError);
    await expect(extractPatch(svs, { box: { x: 0, y: 0, w: 0, h: 10 } })).rejects.toThrow(RangeError);
    await expect(extractPatch(svs, { box: { x: NaN, y: 0, w: 10, h: 10 } })).rejects.toThrow(RangeError);
  });

  it('gallery thumbnails and the slide thumbnail encode at the requested size', async () => {
    const jpeg = await patchThumbnail(svs, { x: 1000, y: 1000, w: 300, h: 150 }, 128);
    expect(await sharp(jpeg).metadata()).toMatchObject({ format: 'jpeg', width: 128, height: 64 });
    const pngThumb = await patchThumbnail(svs, { x: 1000, y: 1000, w: 224, h: 224 }, 96, 'png');
    expect(await sharp(pngThumb).metadata()).toMatchObject({ format: 'png', width: 96, height: 96 });
    const t = await slideThumbnail(svs, 512);
    expect([t.width, t.height]).toEqual([383, 512]);
  });
});
