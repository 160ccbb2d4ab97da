// Slide tiles, patches and thumbnails are addressed by database id. Both adapters answer
// through createMediaRoutes (Electron's cytotune: protocol calls it with the same paths),
// so it is tested directly and over HTTP: unknown ids and crafted paths are refused.
import { request } from 'node:http';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMediaRoutes } from '../../src/main/media/mediaRoutes';
import { overHttp, type Harness } from '../support/servers';
import { slidePath, tempDir } from '../support/paths';

let h: Harness;
let slideId: number;
let labelId: number;

beforeAll(async () => {
  h = await overHttp();
  await h.client.call('project:create', { path: join(tempDir(), 'media.cytotune') });
  await h.client.call('import:run', { paths: [slidePath] });
  slideId = (await h.client.call('images:list', {}))[0].id;
  const cls = await h.client.call('classes:create', { name: 'cell' });
  labelId = (await h.client.call('annotations:create', { imageId: slideId, classId: cls.id, box: { x: 100, y: 200, w: 224, h: 224 } })).id;
});
afterAll(async () => h.close());

function get(path: string, token = h.server!.token): Promise<{ status: number; body: Buffer; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: h.server!.port, path, headers: { 'x-cytotune-token': token } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('media routes', () => {
  it('serve the Deep Zoom descriptor, tiles, a label patch and the thumbnail of a known image', async () => {
    const dzi = await get(`/slides/${slideId}.dzi`);
    expect(dzi.status).toBe(200);
    expect(dzi.body.toString()).toContain('<Size Width="2220" Height="2967" />');
    const tile = await get(`/slides/${slideId}_files/12/4_5.jpeg`);
    expect(tile.status).toBe(200);
    expect(await sharp(tile.body).metadata()).toMatchObject({ format: 'jpeg', width: 256, height: 256 });
    const patch = await get(`/patches/${labelId}.jpg`);
    expect(patch.status).toBe(200);
    expect(await sharp(patch.body).metadata()).toMatchObject({ format: 'jpeg', width: 128, height: 128 });
    expect((await get(`/thumbnails/${slideId}.jpg`)).type).toBe('image/jpeg');
  });

  it('refuse unknown ids, addresses outside the pyramid and crafted paths, over HTTP', async () => {
    for (const path of [
      '/slides/999.dzi',
      `/slides/${slideId}_files/40/0_0.jpeg`,
      `/slides/${slideId}_files/12/99_0.jpeg`,
      '/slides/..%2f..%2fetc%2fpasswd.dzi',
      `/slides/${encodeURIComponent(slidePath)}.dzi`,
      '/patches/999999.jpg',
      '/thumbnails/999999.jpg',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.body.toString()).not.toContain('/shared/data');
    }
    expect((await get(`/slides/${slideId}.dzi`, 'wrong-token')).status).toBe(401);
  });

  it('refuse the same requests in the handler the Electron protocol uses', async () => {
    const media = createMediaRoutes(h.workspace);
    expect((await media(`/slides/${slideId}.dzi`))?.status).toBe(200);
    for (const path of ['/slides/999.dzi', '/slides/../../etc/passwd', `/slides/${slideId}_files/12/0_99.jpeg`, '/patches/0.jpg']) {
      expect((await media(path))?.status ?? 404, path).toBe(404);
    }
  });
});
