// The native (passthrough) layout, the decoded-block cache and request cancellation on real
// slides: the Aperio SVS (RGB JPEG tiles of 240 px, tables in JPEGTables) and a pyramidal
// generic TIFF (YCbCr JPEG tiles of 256 px) whose levels halve exactly.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTiles, tileRegion } from '../../../src/shared/deepZoom';
import { serveSlideRequest } from '../../../src/main/media/slideRoutes';
import { readTiffPages, type TiffPage } from '../../../src/slides/tiffDirectory';
import { TileService, type TileServiceOptions } from '../../../src/slides/tileService';
import { decodeRgb, SLIDE, tempDir, writePyramidTiff } from '../../support/slideHelpers';

const dir = tempDir('passthrough');
const EVEN = join(dir, 'even-pyramid.tif');
const PNG = join(dir, 'plain.png');
const ODD = join(dir, 'odd-pyramid.tif');
const paths: Record<string, string> = { svs: SLIDE, even: EVEN, png: PNG, odd: ODD };
const services: TileService[] = [];
function service(extra: Partial<TileServiceOptions> = {}) {
  const s = new TileService({ resolvePath: (id) => paths[id] ?? null, ...extra });
  services.push(s);
  return s;
}

beforeAll(async () => {
  // 2048 x 1536 of the real slide: levels 2048, 1024, 512, 256 px wide, each exactly half.
  const region = sharp(SLIDE).extract({ left: 0, top: 0, width: 2048, height: 1536 });
  await region.clone().tiff({ tile: true, tileWidth: 256, tileHeight: 256, pyramid: true, compression: 'jpeg', quality: 85 }).toFile(EVEN);
  await region.clone().resize(300).png().toFile(PNG);
  // 2220 x 2967 halved with rounding down: downsamples 2.0003, 4.0013... (fractional origins).
  await writePyramidTiff(ODD);
});
afterAll(() => services.forEach((s) => s.close()));

/** The stored bytes of tile (tx, ty) of a page, read straight from the file. */
async function storedBytes(path: string, page: TiffPage, tx: number, ty: number): Promise<Buffer> {
  const across = Math.ceil(page.width / page.tileWidth!);
  const fh = await open(path, 'r');
  try {
    const entry = async (a: NonNullable<TiffPage['tileOffsets']>) => {
      const b = Buffer.alloc(4);
      await fh.read(b, 0, 4, a.offset + (ty * across + tx) * 4);
      return b.readUInt32LE(0);
    };
    const [offset, count] = [await entry(page.tileOffsets!), await entry(page.tileByteCounts!)];
    const bytes = Buffer.alloc(count);
    await fh.read(bytes, 0, count, offset);
    return bytes;
  } finally {
    await fh.close();
  }
}

const maxDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('native layout: the slide’s own tiles, passed through', () => {
  it('offers the native tile size with overlap 0 where the tiles allow it, the default layout elsewhere', async () => {
    const svc = service();
    expect(await svc.getDzi('svs', { layout: 'native' })).toContain('TileSize="240" Overlap="0"');
    expect(await svc.getDzi('even', { layout: 'native' })).toContain('TileSize="256" Overlap="0"');
    expect(await svc.getDzi('png', { layout: 'native' })).toBe(await svc.getDzi('png'));
    const res = await serveSlideRequest(svc, '/slides/svs.native.dzi');
    expect([res.status, String(res.body)]).toEqual([200, await svc.getDzi('svs', { layout: 'native' })]);
    expect((await serveSlideRequest(svc, '/slides/svs.native_files/12/3_4.jpeg')).status).toBe(200);
    expect((await serveSlideRequest(svc, '/slides/svs.native_files/12/10_0.jpeg')).status).toBe(404);
  });

  for (const prefer of ['openslide', 'sharp'] as const) {
    it(`SVS tiles go out as stored and decode to the source tile's pixels exactly (${prefer})`, async () => {
      const svc = service({ prefer, speculate: 0 });
      const { reader, nativeLayout: layout } = await svc.slide('svs');
      const page0 = (await readTiffPages(SLIDE))![0];
      expect(layout.levelTiles[12]).toEqual([10, 13]);
      for (const [col, row] of [
        [0, 0],
        [4, 7],
        [8, 11],
      ]) {
        const jpeg = await svc.getTile('svs', 12, col, row, { layout: 'native' });
        // Untouched: the stored stream after its SOI is the tail of what we send.
        const stored = await storedBytes(SLIDE, page0, col, row);
        expect(jpeg.subarray(jpeg.length - (stored.length - 2)).equals(stored.subarray(2))).toBe(true);
        const source = await reader.readRegion(0, col * 240, row * 240, 240, 240);
        const sent = await decodeRgb(jpeg);
        expect([sent.width, sent.height]).toEqual([240, 240]);
        expect(maxDiff(sent.data, source.data), `${col}_${row}`).toBe(0);
      }
      expect(svc.stats().passthrough).toBe(3);
      // Edge tiles are smaller than a stored tile: cut and encoded as any other tile.
      const edge = await svc.getTile('svs', 12, 9, 12, { layout: 'native' });
      expect(await sharp(edge).metadata()).toMatchObject({ width: 2220 - 9 * 240, height: 2967 - 12 * 240 });
      expect(svc.stats().passthrough).toBe(3);
    });
  }

  it('a pyramidal YCbCr TIFF passes through every level that is a stored level, with its pixels', async () => {
    const svc = service({ prefer: 'openslide', speculate: 0 });
    const { reader, nativeLayout: layout } = await svc.slide('even');
    expect(reader.levelDimensions).toEqual([
      [2048, 1536],
      [1024, 768],
      [512, 384],
      [256, 192],
    ]);
    const stored = new Set<number>();
    for (const t of allTiles(layout)) {
      const before = svc.stats().passthrough;
      const jpeg = await svc.getTile('even', t.level, t.col, t.row, { layout: 'native' });
      const r = tileRegion(layout, t.level, t.col, t.row)!;
      expect(await sharp(jpeg).metadata(), `${t.level}/${t.col}_${t.row}`).toMatchObject({ width: r.tileSize[0], height: r.tileSize[1] });
      if (svc.stats().passthrough === before) continue;
      stored.add(t.level);
      const source = await reader.readRegion(r.slideLevel, r.l0Location[0], r.l0Location[1], 256, 256);
      expect(maxDiff((await decodeRgb(jpeg)).data, source.data), `${t.level}/${t.col}_${t.row}`).toBe(0);
    }
    // Deep Zoom levels 11, 10, 9 are slide levels 0, 1, 2; level 3 (256 x 192) is one partial tile.
    expect([...stored].sort()).toEqual([11, 10, 9].sort());
    expect(svc.stats().passthrough).toBe(8 * 6 + 4 * 3 + 2 * 2 - 2);
  });
});

describe('decoded-block cache', () => {
  it('gives exactly the pixels of direct reads at every level, through OpenSlide and libvips', async () => {
    for (const prefer of ['openslide', 'sharp'] as const) {
      // No overview: every tile is a slide read (whole levels, 2x shrinks, fractional downsamples).
      const blocks = service({ prefer, overviewMaxSide: 0, speculate: 0 });
      const direct = service({ prefer, overviewMaxSide: 0, speculate: 0, regionCacheBytes: 0 });
      for (const id of ['svs', 'even', 'odd']) {
        const { layout } = await blocks.slide(id);
        const last = layout.levelCount - 1;
        for (const [level, col, row] of [
          [last, 0, 0],
          [last, 3, 2],
          [last, 4, 5],
          [last - 1, 1, 1],
          [last - 2, 1, 0],
          [last - 4, 0, 0],
        ]) {
          const a = await blocks.getTileRgb(id, level, col, row);
          const b = await direct.getTileRgb(id, level, col, row);
          expect(maxDiff(a.data, b.data), `${prefer} ${id} ${level}/${col}_${row}`).toBe(0);
        }
      }
      const { composed, direct: fallback } = blocks.stats().regions;
      expect(composed).toBeGreaterThan(0);
      // Through OpenSlide, the odd pyramid's fractional levels are read directly.
      expect(fallback > 0).toBe(prefer === 'openslide');
      expect(direct.stats().regions.composed).toBe(0);
    }
  });

  it('decodes each source block once for a burst of tiles, within its byte budget', async () => {
    const budget = 16 * 1024 * 1024;
    const svc = service({ prefer: 'sharp', overviewMaxSide: 0, speculate: 0, regionCacheBytes: budget });
    const { layout } = await svc.slide('svs');
    await Promise.all([...allTiles(layout)].filter((t) => t.level === 12).map((t) => svc.getTile('svs', t.level, t.col, t.row)));
    const { regions } = svc.stats();
    // 2220 x 2967 in blocks of 960 px (4 x 4 stored tiles): 3 x 4 blocks, each decoded once.
    expect(regions.decodes).toBe(12);
    expect(regions.bytes).toBeLessThanOrEqual(budget);
  });
});

describe('abandoned requests', () => {
  it('a tile request whose client went away is answered 499 and its queued render is dropped', async () => {
    const svc = service({ concurrency: 1, speculate: 0, overviewMaxSide: 0 });
    const busy = serveSlideRequest(svc, '/slides/svs_files/12/0_0.jpeg');
    const viewer = new AbortController();
    const abandoned = [1, 2, 3, 4, 5].map((c) => serveSlideRequest(svc, `/slides/svs_files/12/${c}_0.jpeg`, viewer.signal));
    await new Promise((r) => setImmediate(r));
    expect(svc.stats().queue).toMatchObject({ running: 1, queued: 5 });
    viewer.abort();
    for (const res of await Promise.all(abandoned)) expect(res.status).toBe(499);
    expect((await busy).status).toBe(200);
    expect(svc.stats().queue).toMatchObject({ queued: 0, dropped: 5, started: 1 });
    expect(svc.stats().cachedTiles).toBe(1);
  });

  it('close() drops queued guesses, and renders still running never reopen a slide', async () => {
    const svc = service();
    // The first coarse tile builds the overview, which queues every coarse tile as a guess.
    await svc.getTile('svs', 9, 0, 0);
    await svc.getTile('svs', 12, 4, 4);
    svc.close();
    const settled = async () => {
      for (let i = 0; i < 200 && svc.stats().queue.running > 0; i++) await new Promise((r) => setTimeout(r, 5));
    };
    await settled();
    await new Promise((r) => setTimeout(r, 20));
    await settled();
    expect(svc.stats()).toMatchObject({ openSlides: 0, cachedTiles: 0, queue: { queued: 0, speculativeQueued: 0, running: 0 } });
  });
});
