import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSlideInfo } from '../../../src/cli/commands/slideInfo';
import { SLIDE, tempDir } from '../../support/slideHelpers';

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSlideInfo(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('cytotune slide-info', () => {
  it('--json reports reader, levels with downsamples, mpp and vendor of the real SVS', async () => {
    const { code, out, err } = await run([SLIDE, '--json']);
    expect([code, err]).toEqual([0, '']);
    const info = JSON.parse(out);
    expect(info).toMatchObject({
      reader: 'openslide',
      vendor: 'aperio',
      width: 2220,
      height: 2967,
      levelCount: 1,
      levels: [{ level: 0, width: 2220, height: 2967, downsample: 1 }],
      mpp: { x: 0.499, y: 0.499 },
      objectivePower: 20,
      associatedImages: ['label', 'macro', 'thumbnail'],
    });
    expect(info.openslide.available).toBe(true);
  });

  it('--reader sharp says the fallback opened it; the text form lists every level', async () => {
    const { code, out } = await run(['--reader', 'sharp', SLIDE]);
    expect(code).toBe(0);
    expect(out).toMatch(/^reader: +sharp$/m);
    expect(out).toMatch(/^ +level 0: 2220 x 2967 +downsample 1$/m);
    expect(out).toMatch(/^mpp: +0\.4990 x 0\.4990/m);
    expect(out).toMatch(/^vendor: +aperio$/m);
  });

  it('a bad file exits 1 with one line naming the file and the reason', async () => {
    const bad = join(tempDir('info'), 'broken.svs');
    writeFileSync(bad, 'not a slide');
    const { code, out, err } = await run([bad, '--json']);
    expect([code, out]).toEqual([1, '']);
    expect(err.split('\n')).toHaveLength(1);
    expect(err).toMatch(/^slide-info: Cannot open slide .*broken\.svs: not a valid \.svs whole-slide image/);
    expect((await run([join(tempDir('info'), 'absent.svs')])).err).toMatch(/absent\.svs: file not found/);
  });

  it('usage errors exit 2', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run([SLIDE, '--bogus'])).code).toBe(2);
    expect((await run([SLIDE, SLIDE])).code).toBe(2);
  });
});
