import { describe, expect, it } from 'vitest';
import { detectCells } from '../../../../src/slides/cells/detectCells';
import { memoryRegionSource } from '../../../../src/slides/cells/memorySource';
import { HE_HISTOLOGY_PRESET } from '../../../../src/slides/cells/params';
import { previewRegion } from '../../../../src/slides/cells/preview';
import { CellDetectionError, type CellDetection, type RegionSource } from '../../../../src/slides/cells/types';
import { drawBlobs, type Blob } from './synthetic';

const MPP = { x: 0.5, y: 0.5 };
const TILE = 128;
const params = HE_HISTOLOGY_PRESET; // nuclei 8-32 px at 0.5 um/px

/**
 * Disks on a jittered grid, a third of them centred right on tile borders (multiples of TILE),
 * where a careless runner would find them twice or cut them. The right third stays empty glass.
 */
function scene(): { blobs: Blob[]; source: RegionSource & { reads: { count: number; maxPixels: number } } } {
  const blobs: Blob[] = [];
  let s = 7;
  const rand = (): number => (s = (s * 16807) % 2147483647) / 2147483647;
  for (let gy = 0; gy < 5; gy++)
    for (let gx = 0; gx < 4; gx++) {
      const onBorder = (gx + gy) % 3 === 0;
      const x = onBorder ? (gx + 1) * TILE - 0.5 + (rand() - 0.5) * 2 : 40 + gx * TILE + rand() * 40;
      const y = onBorder ? 30 + gy * 110 + rand() * 20 : 30 + gy * 110 + rand() * 50;
      blobs.push({ x, y, r: 6 + rand() * 5, od: 0.4 + rand() * 0.4 });
    }
  const img = drawBlobs(760, 600, blobs);
  return { blobs, source: memoryRegionSource(img, MPP, 4) };
}

const key = (d: CellDetection): string => `${d.x.toFixed(3)},${d.y.toFixed(3)}`;

describe('detectCells tile runner', () => {
  it('finds every disk once, also those centred on tile borders, like one whole-image pass', async () => {
    const { blobs, source } = scene();
    const r = await detectCells(source, params, { tileSize: TILE });
    expect(r.tilesTotal).toBe(Math.ceil(760 / TILE) * Math.ceil(600 / TILE));
    expect(r.detections).toHaveLength(blobs.length);
    for (const b of blobs) expect(r.detections.filter((d) => Math.hypot(d.x - b.x, d.y - b.y) < 2)).toHaveLength(1);
    const whole = previewRegion(await source.readRegion(0, 0, 0, 760, 600), params, { mpp: MPP, white: r.white }).detections;
    expect(whole).toHaveLength(blobs.length);
    for (const d of whole) expect(r.detections.some((t) => Math.hypot(t.x - d.x, t.y - d.y) < 1)).toBe(true);
    // The empty right part of the slide is skipped without being read.
    expect(r.tilesSkipped).toBeGreaterThan(0);
    const all = await detectCells(source, params, { tileSize: TILE, skipBackground: false });
    expect(all.tilesSkipped).toBe(0);
    expect(all.detections.map(key).sort()).toEqual(r.detections.map(key).sort());
  });

  it('never reads more than one tile with its overlap at a time (plus the overview)', async () => {
    const { source } = scene();
    const r = await detectCells(source, params, { tileSize: TILE, skipBackground: false, white: [250, 250, 250] });
    const overlap = r.checkpoint.overlap;
    expect(overlap).toBeGreaterThanOrEqual(32);
    expect(source.reads.maxPixels).toBeLessThanOrEqual((TILE + 2 * overlap) ** 2);
    expect(source.reads.count).toBe(r.tilesTotal);
  });

  it('reports progress per tile, stops on abort with the checkpoint, and resumes to the same set', async () => {
    const { source } = scene();
    const full = await detectCells(source, params, { tileSize: TILE });

    const stored: CellDetection[] = [];
    const progress: number[] = [];
    const ctrl = new AbortController();
    const err = await detectCells(source, params, {
      tileSize: TILE,
      signal: ctrl.signal,
      onTile: (i, found) => {
        stored.push(...found);
        if (i === 6) ctrl.abort();
      },
      onProgress: (p) => progress.push(p.tilesDone),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CellDetectionError);
    const cancelled = err as CellDetectionError;
    expect(cancelled.kind).toBe('cancelled');
    expect(cancelled.message).toMatch(/cancelled after 7 of 30 tiles/);
    expect(cancelled.checkpoint!.nextTile).toBe(7);
    // The glass colour travels with the checkpoint, so the resumed tiles convert RGB the same way.
    expect(cancelled.checkpoint!.white).toEqual(full.white);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7]);

    const rest = await detectCells(source, params, {
      tileSize: TILE,
      resumeFrom: cancelled.checkpoint,
      onTile: (_, found) => stored.push(...found),
    });
    expect(rest.detections.length).toBeLessThan(full.detections.length);
    expect(stored.map(key).sort()).toEqual(full.detections.map(key).sort());
  });

  it('can leave the detections to onTile alone, keeping memory flat on huge slides', async () => {
    const { source } = scene();
    let streamed = 0;
    let reported = 0;
    const r = await detectCells(source, params, {
      tileSize: TILE,
      returnDetections: false,
      onTile: (_, found) => (streamed += found.length),
      onProgress: (p) => (reported = p.cells),
    });
    expect(r.detections).toHaveLength(0);
    expect(streamed).toBe(20);
    expect(reported).toBe(20);
  });

  it('an already aborted signal cancels before any read', async () => {
    const { source } = scene();
    const ctrl = new AbortController();
    ctrl.abort();
    const err = (await detectCells(source, params, { signal: ctrl.signal }).catch((e: unknown) => e)) as CellDetectionError;
    expect(err.kind).toBe('cancelled');
    expect(err.checkpoint!.nextTile).toBe(0);
    expect(source.reads.count).toBe(0);
  });

  it('refuses bad options and foreign checkpoints with messages a user can act on', async () => {
    const { source } = scene();
    const kind = async (p: Promise<unknown>): Promise<[string, string]> => {
      const e = (await p.catch((x: unknown) => x)) as CellDetectionError;
      return [e.kind, e.message];
    };
    expect(await kind(detectCells(source, params, { overlap: 10 }))).toEqual([
      'invalid-options',
      expect.stringMatching(/below the largest nucleus \(32 px/),
    ]);
    expect(await kind(detectCells(source, params, { level: 9 }))).toEqual(['invalid-options', expect.stringMatching(/levels 0-3/)]);
    expect(await kind(detectCells(source, params, { level: 2 }))).toEqual(['invalid-params', expect.stringMatching(/finer pyramid level/)]);
    expect(await kind(detectCells(source, { minContrastOd: 0 }))).toEqual(['invalid-params', expect.stringMatching(/minimum contrast/)]);
    const cp = { detectorVersion: 'old', level: 0, tileSize: TILE, overlap: 38, tilesTotal: 30, nextTile: 3 };
    expect(await kind(detectCells(source, params, { tileSize: TILE, resumeFrom: cp }))).toEqual([
      'invalid-options',
      expect.stringMatching(/different detection run/),
    ]);
  });

  it('turns a failing read into read-failed with the tile to resume from', async () => {
    const { source } = scene();
    let calls = 0;
    const flaky: RegionSource = {
      ...source,
      readRegion: async (level, x0, y0, w, h) => {
        if (level === 0 && ++calls === 3) throw new Error('truncated JPEG tile');
        return source.readRegion(level, x0, y0, w, h);
      },
    };
    const err = (await detectCells(flaky, params, { tileSize: TILE, skipBackground: false, white: [250, 250, 250] }).catch(
      (e: unknown) => e,
    )) as CellDetectionError;
    expect(err.kind).toBe('read-failed');
    expect(err.message).toMatch(/tile 3 of 30.*truncated JPEG tile/);
    expect(err.checkpoint!.nextTile).toBe(2);
  });

  it('works on slides without mpp, flagging the assumption', async () => {
    const img = drawBlobs(200, 200, [{ x: 100, y: 100, r: 9, od: 0.6 }]);
    const r = await detectCells(memoryRegionSource(img, null), params);
    expect(r.mppAssumed).toBe(true);
    expect(r.umPerPx).toBe(params.fallbackMppUm);
    expect(r.detections).toHaveLength(1);
    // Tuple-style level sizes, as the application's readers report them, are accepted too.
    const tupleStyle: RegionSource = { ...memoryRegionSource(img, MPP), dimensions: [200, 200], levelDimensions: [[200, 200]] };
    expect((await detectCells(tupleStyle, params)).detections).toHaveLength(1);
  });
});
