import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTiles, tileRegion } from '../../../src/shared/deepZoom';
import { parseSlideRequest, serveSlideRequest } from '../../../src/main/media/slideRoutes';
import { TileNotFoundError, TileService, type TileServiceOptions } from '../../../src/slides/tileService';
import { decodeRgb, meanAbsDiff, SLIDE, tempDir, writePyramidTiff } from '../../support/slideHelpers';

const FIXTURES = new URL('../../fixtures/slides/', import.meta.url);
const dzFixture = JSON.parse(readFileSync(new URL('deepzoom.json', FIXTURES), 'utf8')) as { cases: { dzi: string }[] };
const refTiles = JSON.parse(readFileSync(new URL('reference-tiles.json', FIXTURES), 'utf8')) as {
  tiles: { level: number; col: number; row: number; file: string }[];
};

const dir = tempDir('tiles');
const PYRAMID = join(dir, 'pyramid.tif');
const paths: Record<string, string> = { svs: SLIDE, '42': SLIDE, pyr: PYRAMID };
const lookups: string[] = [];
const services: TileService[] = [];
function service(extra: Partial<TileServiceOptions> = {}) {
  const s = new TileService({
    resolvePath: (id) => {
      lookups.push(id);
      return paths[id] ?? null;
    },
    ...extra,
  });
  services.push(s);
  return s;
}

beforeAll(() => writePyramidTiff(PYRAMID));
afterAll(() => services.forEach((s) => s.close()));

describe('tile service on CMU-1-Small-Region.svs', () => {
  for (const prefer of ['openslide', 'sharp'] as const) {
    it(`serves every tile of every level as a decodable JPEG of the expected size (${prefer})`, async () => {
      const svc = service({ prefer });
      const { layout, reader } = await svc.slide('svs');
      expect(reader.readerName).toBe(prefer);
      expect(layout.levelCount).toBe(13);
      let n = 0;
      for (const { level, col, row } of allTiles(layout)) {
        const jpeg = await svc.getTile('svs', level, col, row);
        expect([...jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
        const meta = await sharp(jpeg).metadata();
        expect([meta.format, meta.width, meta.height], `${level}/${col}_${row}`).toEqual([
          'jpeg',
          ...tileRegion(layout, level, col, row)!.tileSize,
        ]);
        n++;
      }
      expect(n).toBe(layout.tileCount);
      expect(n).toBe(160);
    });
  }

  it('serves the DZI descriptor exactly as DeepZoomGenerator.get_dzi', async () => {
    expect(await service().getDzi('svs')).toBe(dzFixture.cases[0].dzi);
  });

  for (const overviewMaxSide of [2048, 0]) {
    it(`tile pixels match DeepZoomGenerator.get_tile (MAD < 1 before JPEG; overview ${overviewMaxSide || 'off'})`, async () => {
      const svc = service({ overviewMaxSide });
      for (const t of refTiles.tiles) {
        const ref = await decodeRgb(new URL(t.file, FIXTURES).pathname);
        const mad = meanAbsDiff(await svc.getTileRgb('svs', t.level, t.col, t.row), ref);
        expect(Math.max(...mad), `${t.file} ${mad.map((m) => m.toFixed(2))}`).toBeLessThan(1);
      }
    });
  }

  it('JPEG tiles (quality 85) stay within the re-encoding error of this Q=30 source', async () => {
    const svc = service();
    for (const t of refTiles.tiles) {
      const raw = await svc.getTileRgb('svs', t.level, t.col, t.row);
      const mad = meanAbsDiff(await decodeRgb(await svc.getTile('svs', t.level, t.col, t.row)), raw);
      // Measured 3-8 per channel: 4:2:0 chroma and the source's own JPEG noise; a broken encode is far above.
      expect(Math.max(...mad), t.file).toBeLessThan(10);
    }
  });

  it('the same tile through OpenSlide and through the sharp fallback agrees (MAD < 3 per channel)', async () => {
    const o = service({ prefer: 'openslide', cacheBytes: 0 });
    const s = service({ prefer: 'sharp', cacheBytes: 0 });
    for (const [level, col, row] of [
      [12, 0, 0],
      [12, 4, 6],
      [12, 8, 11],
      [11, 2, 3],
      [9, 0, 1],
      [5, 0, 0],
    ]) {
      const mad = meanAbsDiff(
        await decodeRgb(await o.getTile('svs', level, col, row)),
        await decodeRgb(await s.getTile('svs', level, col, row)),
      );
      expect(Math.max(...mad), `${level}/${col}_${row}`).toBeLessThan(3);
    }
  });

  it('serves a warm tile from the cache, shares concurrent renders and keeps within the byte budget', async () => {
    const svc = service({ cacheBytes: 200_000 });
    const a = await svc.getTile('svs', 12, 3, 3);
    expect(await svc.getTile('svs', 12, 3, 3)).toBe(a);
    const [x, y] = await Promise.all([svc.getTile('svs', 12, 5, 5), svc.getTile('svs', 12, 5, 5)]);
    expect(x).toBe(y);
    const many = await Promise.all(Array.from({ length: 40 }, (_, i) => svc.getTile('svs', 12, i % 9, Math.floor(i / 9))));
    expect(many.every((b) => b[0] === 0xff)).toBe(true);
    const st = svc.stats();
    expect(st.cachedBytes).toBeLessThanOrEqual(200_000);
    expect(st.cachedTiles).toBeGreaterThan(3);
    expect(st.cachedTiles).toBeLessThan(40);
  });

  it('keeps at most maxOpenSlides handles open and still serves evicted slides', async () => {
    const svc = service({ maxOpenSlides: 1, cacheBytes: 0 });
    // 30 requests over three ids with room for one handle: every open evicts another under reads.
    const ids = ['svs', 'pyr', '42'];
    const jpegs = await Promise.all(Array.from({ length: 30 }, (_, i) => svc.getTile(ids[i % 3], 12, i % 8, Math.floor(i / 8))));
    expect(jpegs.every((b) => b[0] === 0xff && b[1] === 0xd8)).toBe(true);
    expect(svc.stats().openSlides).toBe(1);
    const kept = await svc.slide('svs');
    await svc.getTile('pyr', 12, 0, 0); // evicts 'svs' with no read in flight: its handle closes
    await expect(kept.reader.readRegion(0, 0, 0, 4, 4)).rejects.toThrow(/slide is closed/);
  });

  it('uses the pyramid levels of a multi-level TIFF for coarse Deep Zoom levels', async () => {
    const svc = service({ overviewMaxSide: 0 });
    const { layout } = await svc.slide('pyr');
    expect(layout.slideLevelForDzLevel.slice(-5)).toEqual([3, 2, 1, 0, 0]);
    for (const level of [8, 9, 10, 11]) {
      const jpeg = await svc.getTile('pyr', level, 0, 0);
      expect((await sharp(jpeg).metadata()).width).toBe(tileRegion(layout, level, 0, 0)!.tileSize[0]);
    }
  });
});

describe('refusals: unknown ids and crafted requests never reach a file', () => {
  it('unknown or malformed image ids are not-found; malformed ones are not even looked up', async () => {
    const svc = service();
    lookups.length = 0;
    await expect(svc.getTile('nope', 0, 0, 0)).rejects.toBeInstanceOf(TileNotFoundError);
    await expect(svc.getDzi('nope')).rejects.toMatchObject({ kind: 'not-found' });
    for (const id of ['../../etc/passwd', '/etc/passwd', 'svs/../svs', '', 'a'.repeat(129), 'svs\0', 'svs.dzi', SLIDE]) {
      await expect(svc.getDzi(id), JSON.stringify(id)).rejects.toBeInstanceOf(TileNotFoundError);
    }
    await expect(svc.getDzi(42 as unknown as string)).rejects.toBeInstanceOf(TileNotFoundError);
    expect(lookups).toEqual(['nope', 'nope']);
  });

  it('a cached tile of an image the database no longer knows is refused', async () => {
    const svc = service();
    paths.gone = SLIDE;
    await svc.getTile('gone', 12, 0, 0);
    delete paths.gone;
    await expect(svc.getTile('gone', 12, 0, 0)).rejects.toBeInstanceOf(TileNotFoundError);
  });

  it('an id relinked to another file serves the new file, not cached tiles of the old one', async () => {
    const svc = service();
    paths.relink = SLIDE;
    const before = await svc.getTile('relink', 12, 2, 2);
    paths.relink = PYRAMID;
    const after = await svc.getTile('relink', 12, 2, 2);
    expect((await svc.slide('relink')).path).toBe(PYRAMID);
    expect(after.equals(before)).toBe(false);
  });

  it('levels, columns and rows outside the pyramid, negative or fractional, are not-found', async () => {
    const svc = service();
    await expect(svc.getTile('svs', 12, 8, 11)).resolves.toBeInstanceOf(Buffer);
    for (const [l, c, r] of [
      [13, 0, 0],
      [-1, 0, 0],
      [12, 9, 0],
      [12, 0, 12],
      [12, -1, 0],
      [1.5, 0, 0],
      [12, NaN, 0],
      [12, Infinity, 0],
      [0, 1, 0],
    ]) {
      await expect(svc.getTile('svs', l, c, r), `${l}/${c}_${r}`).rejects.toBeInstanceOf(TileNotFoundError);
    }
  });

  it('the URL layout refuses traversal, encoded separators and other file names (404 without detail)', async () => {
    const svc = service();
    expect(parseSlideRequest('/slides/svs_files/12/3_4.jpeg')).toEqual({ kind: 'tile', imageId: 'svs', level: 12, col: 3, row: 4 });
    for (const p of [
      '/slides/../etc/passwd',
      '/slides/..%2F..%2Fetc%2Fpasswd.dzi',
      '/slides/svs_files/12/3_4.png',
      '/slides/svs_files/12/-1_4.jpeg',
      '/slides/svs_files/12/3_4.jpeg/..',
      '/slides/%2e%2e.dzi',
      '/slides/svs_files/1e3/0_0.jpeg',
      '/slides/svs.dzi?x=1',
    ]) {
      expect(parseSlideRequest(p), p).toBeNull();
      expect((await serveSlideRequest(svc, p)).status, p).toBe(404);
    }
    const dzi = await serveSlideRequest(svc, '/slides/svs.dzi');
    expect([dzi.status, dzi.contentType]).toEqual([200, 'application/xml']);
    const tile = await serveSlideRequest(svc, '/slides/svs_files/12/3_4.jpeg');
    expect([tile.status, tile.contentType]).toEqual([200, 'image/jpeg']);
    expect((await serveSlideRequest(svc, '/slides/svs_files/99/0_0.jpeg')).status).toBe(404);
    expect((await serveSlideRequest(svc, '/slides/unknown.dzi')).status).toBe(404);
  });

  it('a known id whose file is unreadable is a 500 whose body does not reveal the path', async () => {
    paths.broken = join(dir, 'missing.svs');
    const res = await serveSlideRequest(service(), '/slides/broken.dzi');
    expect(res.status).toBe(500);
    expect(String(res.body)).toMatch(/file not found/);
    expect(String(res.body)).not.toContain(dir);
  });
});
