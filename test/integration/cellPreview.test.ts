// The detector on the viewer's current field (cells:preview) and the cell thumbnails the sorter
// and the gallery show (/cells/<id>.jpg): bounded, with messages a user can act on.
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyntheticSlide } from '../../scripts/synthetic-lbc-slide';
import { createMediaRoutes } from '../../src/main/media/mediaRoutes';
import { CELL_PREVIEW_MAX_PIXELS } from '../../src/shared/cells';
import { slidePath, tempDir } from '../support/paths';
import { inProcess, type Harness } from '../support/servers';
import { longestStall } from '../support/loopStall';
import { syntheticSlide } from '../support/syntheticSlides';

let h: Harness;
let slide: SyntheticSlide;
let lbc: number;
let svs: number;

beforeAll(async () => {
  const dir = tempDir();
  slide = await syntheticSlide(dir, 'lbc', ['normal_superficiel', 'severe_dysplastic'], 30, 4);
  h = inProcess();
  await h.client.call('project:create', { path: join(dir, 'preview.cytotune') });
  await h.client.call('import:run', { paths: [slide.path, slidePath] });
  for (const img of await h.client.call('images:list', {}))
    if (img.path.endsWith('.svs')) svs = img.id;
    else lbc = img.id;
}, 120_000);
afterAll(async () => h.close());

describe('cells:preview', () => {
  it('finds the nuclei of a view, in level-0 pixels, clipped to the image', async () => {
    const view = await h.client.call('cells:preview', {
      imageId: lbc,
      region: { x: -50, y: -50, w: slide.width + 100, h: slide.height + 100 },
    });
    expect(view.region).toEqual({ x: 0, y: 0, w: slide.width, h: slide.height });
    expect(view.cells.length).toBeGreaterThanOrEqual(Math.round(0.9 * slide.cells.length));
    expect(view.mppAssumed).toBe(false);
    const half = await h.client.call('cells:preview', {
      imageId: lbc,
      region: { x: slide.width / 2, y: 0, w: slide.width / 2, h: slide.height },
    });
    expect(half.cells.every((c) => c.x >= slide.width / 2 - 1 && c.outline && c.outline.length > 2)).toBe(true);
  });

  it('refuses a view over the pixel bound, bad parameters and a view beside the image, saying why', async () => {
    await expect(h.client.call('cells:preview', { imageId: svs, region: { x: 0, y: 0, w: 2220, h: 2967 } })).rejects.toThrow(
      new RegExp(`6\\.6 megapixels .* at most ${(CELL_PREVIEW_MAX_PIXELS / 1e6).toFixed(1)}: zoom in`),
    );
    await expect(
      h.client.call('cells:preview', {
        imageId: lbc,
        region: { x: 0, y: 0, w: 200, h: 200 },
        params: { nucleusDiameterUm: { min: 9, max: 6 } },
      }),
    ).rejects.toThrow(/minimum nucleus diameter \(9 um\) must be below the maximum/);
    await expect(h.client.call('cells:preview', { imageId: lbc, region: { x: 5000, y: 5000, w: 100, h: 100 } })).rejects.toThrow(
      /pan back/,
    );
    const presets = await h.client.call('cells:presets', {});
    expect(presets.map((p) => p.name)).toEqual(['pap-lbc', 'he-histology']);
    // H&E at a zoomed-in view of the real slide: bounded, so it answers.
    const he = await h.client.call('cells:preview', { imageId: svs, preset: 'he-histology', region: { x: 800, y: 800, w: 600, h: 600 } });
    expect(he.cells.length).toBeGreaterThan(5);
  });
});

describe('cells:preview off the main thread', () => {
  it('keeps the main event loop free while a 4-megapixel view is read and detected', async () => {
    const {
      result: view,
      longestGap,
      took,
    } = await longestStall(() =>
      h.client.call('cells:preview', { imageId: svs, preset: 'he-histology', region: { x: 0, y: 0, w: 2000, h: 2000 } }),
    );
    expect(view.cells.length).toBeGreaterThan(500);
    // On main, the read and the detection would stall the loop for (nearly) the whole call.
    expect(took).toBeGreaterThan(200);
    // Off main, the loop only waits for the reply's copy (about 0.1 s of 4 s here, under load).
    expect(longestGap).toBeLessThan(took / 5);
  });
});

describe('/cells/<id>.jpg', () => {
  it("cuts the patch a label on the cell would hold (the project's patch size, centred), and nothing else", async () => {
    await h.client.call('cells:detect', { imageId: lbc });
    await expect
      .poll(async () => (await h.client.call('cells:runs', { imageId: lbc }))[0].status, { timeout: 90_000, interval: 250 })
      .toBe('completed');
    const [cell] = await h.client.call('cells:list', { imageId: lbc, limit: 1 });
    const media = createMediaRoutes(h.workspace);
    const ok = await media(`/cells/${cell.id}.jpg`);
    expect(ok).toMatchObject({ status: 200, contentType: 'image/jpeg' });
    const meta = await sharp(ok!.body as Buffer).metadata();
    expect([meta.width, meta.height]).toEqual([128, 128]);
    for (const bad of ['/cells/999999.jpg', '/cells/0.jpg', '/cells/01.jpg', '/cells/1.png', '/cells/../1.jpg'])
      expect((await media(bad))?.status ?? 404).toBe(404);
  });
});
