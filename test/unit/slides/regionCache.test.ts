import { describe, expect, it } from 'vitest';
import { RegionCache, type BlockSource } from '../../../src/slides/regionCache';
import type { RgbImage } from '../../../src/shared/image';

/** Pixel (x, y) of level `l` is a function of its position, so every copy can be checked. */
function pixelsAt(level: number, x: number, y: number, w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const o = (j * w + i) * 3;
      data[o] = (x + i) & 255;
      data[o + 1] = (y + j) & 255;
      data[o + 2] = ((x + i) >> 8) * 16 + ((y + j) >> 8) + level * 64;
    }
  }
  return { data, width: w, height: h };
}

/** A 1000 x 700 level 0 and a 500 x 350 level 1 (downsample 2) in 100 x 100 blocks; reads are counted. */
function fakeSource(key = 'slide#1') {
  const reads = { block: 0, direct: 0, blocks: new Set<string>() };
  const sizes: [number, number][] = [
    [1000, 700],
    [500, 350],
  ];
  const src: BlockSource = {
    key,
    blockSize: () => [100, 100],
    levelSize: (l) => sizes[l],
    levelOrigin: (l, x0, y0) => {
      const d = 2 ** l;
      return Number.isInteger(x0 / d) && Number.isInteger(y0 / d) ? [x0 / d, y0 / d] : null;
    },
    async readBlock(l, lx, ly, w, h) {
      reads.block++;
      reads.blocks.add(`${l}/${lx}_${ly}`);
      await new Promise((r) => setImmediate(r));
      return pixelsAt(l, lx, ly, w, h);
    },
    async readDirect(l, x0, y0, w, h) {
      reads.direct++;
      return pixelsAt(l, Math.floor(x0 / 2 ** l), Math.floor(y0 / 2 ** l), w, h);
    },
  };
  return { src, reads };
}

describe('RegionCache: decoded source blocks shared by every tile that needs them', () => {
  it('composes any region inside the level from blocks, exactly as a direct read', async () => {
    const { src, reads } = fakeSource();
    const cache = new RegionCache({ budget: 10_000_000, concurrency: 2 });
    for (const [l, x, y, w, h] of [
      [0, 0, 0, 1000, 700],
      [0, 99, 99, 2, 2],
      [0, 253, 507, 256, 193],
      [0, 900, 600, 100, 100],
      [1, 2 * 137, 2 * 41, 256, 256],
    ]) {
      const got = await cache.read(src, l, x, y, w, h);
      expect([got.width, got.height]).toEqual([w, h]);
      expect(Buffer.from(got.data).equals(Buffer.from(pixelsAt(l, x / 2 ** l, y / 2 ** l, w, h).data)), `${l} ${x},${y} ${w}x${h}`).toBe(
        true,
      );
    }
    expect(reads.direct).toBe(0);
    // Level 0 has 10 x 7 blocks, all read once by the first region; the level-1 region spans 3 x 3.
    expect(reads.block).toBe(70 + 9);
    expect(cache.stats()).toMatchObject({ decodes: 79, composed: 5, direct: 0 });
  });

  it('decodes each block once for a burst of overlapping requests, even concurrent ones', async () => {
    const { src, reads } = fakeSource();
    const cache = new RegionCache({ budget: 10_000_000, concurrency: 3 });
    // Deep Zoom tiles of 256 + 1 px overlap at 254 px steps over a 3 x 2 block area.
    const tiles = [0, 1].flatMap((r) => [0, 1].map((c) => cache.read(src, 0, c * 254, r * 254, 257, 257)));
    await Promise.all(tiles);
    expect(reads.block).toBe(reads.blocks.size);
    expect(reads.blocks.size).toBe(6 * 6);
  });

  it('stays within its byte budget, evicting the least recently used blocks', async () => {
    const { src, reads } = fakeSource();
    const budget = 6 * 100 * 100 * 3;
    const cache = new RegionCache({ budget, concurrency: 2 });
    for (let y = 0; y < 700; y += 50) {
      for (let x = 0; x < 1000; x += 50) {
        await cache.read(src, 0, x, y, 50, 50);
        expect(cache.stats().bytes).toBeLessThanOrEqual(budget);
      }
    }
    expect(cache.stats().blocks).toBeLessThanOrEqual(6);
    // Row by row, each block is needed by 4 regions in a row and read again only for the next row.
    expect(reads.block).toBe(70 * 2);
    cache.forget(src);
    expect(cache.stats()).toMatchObject({ blocks: 0, bytes: 0 });
  });

  it('reads directly where blocks would not give the same pixels, or the budget holds too few', async () => {
    const { src, reads } = fakeSource();
    const cache = new RegionCache({ budget: 10_000_000, concurrency: 2 });
    await cache.read(src, 1, 3, 8, 10, 10); // level-1 origin 1.5: a fractional pixel
    await cache.read(src, 0, -5, 0, 10, 10); // outside the level (background)
    await cache.read(src, 0, 995, 0, 10, 10);
    expect([reads.direct, reads.block]).toEqual([3, 0]);
    const tiny = new RegionCache({ budget: 3 * 100 * 100 * 3, concurrency: 1 });
    await tiny.read(src, 0, 0, 0, 10, 10);
    expect([reads.direct, reads.block]).toEqual([4, 0]);
  });

  it('pads to a larger size by repeating the last column and row, composed or read directly', async () => {
    const { src } = fakeSource();
    const cache = new RegionCache({ budget: 10_000_000, concurrency: 2 });
    // Level 0 at x 150: composed from blocks; level 1 at x 303 (151.5 in level pixels): read directly.
    for (const [level, x0] of [
      [0, 150],
      [1, 303],
    ]) {
      const got = await cache.read(src, level, x0, 0, 101, 99, [102, 100]);
      const want = pixelsAt(level, Math.floor(x0 / 2 ** level), 0, 101, 99);
      expect([got.width, got.height]).toEqual([102, 100]);
      const px = (img: { data: Uint8Array; width: number }, x: number, y: number) => [
        ...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3),
      ];
      expect(px(got, 50, 50)).toEqual(px(want, 50, 50));
      expect(px(got, 101, 10)).toEqual(px(want, 100, 10));
      expect(px(got, 40, 99)).toEqual(px(want, 40, 98));
      expect(px(got, 101, 99)).toEqual(px(want, 100, 98));
    }
    expect(cache.stats()).toMatchObject({ composed: 1, direct: 1 });
    await expect(cache.read(src, 0, 0, 0, 10, 10, [9, 10])).rejects.toThrow(RangeError);
  });

  it('hands out a block itself for a region inside it (no copy), and keeps slides apart', async () => {
    const a = fakeSource('a#1');
    const b = fakeSource('a#10');
    const cache = new RegionCache({ budget: 10_000_000, concurrency: 2 });
    const view = await cache.readView(a.src, 0, 110, 120, 50, 60);
    expect([view.image.width, view.image.height, view.left, view.top]).toEqual([100, 100, 10, 20]);
    expect(view.image).toBe(
      await cache
        .read(a.src, 0, 100, 100, 100, 100)
        .then(() => cache.readView(a.src, 0, 100, 100, 1, 1))
        .then((v) => v.image),
    );
    await cache.read(b.src, 0, 110, 120, 50, 60);
    expect(b.reads.block).toBe(1);
    cache.forget(a.src);
    expect(cache.stats().blocks).toBe(1);
  });
});
