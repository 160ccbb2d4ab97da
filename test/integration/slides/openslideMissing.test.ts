import { afterAll, describe, expect, it } from 'vitest';
import { loadOpenSlide, resetOpenSlideForTests } from '../../../src/slides/openslideLib';
import { openWithOpenSlide } from '../../../src/slides/openslide';
import { openSlide, openSlideAvailability } from '../../../src/slides/slideOpener';
import { SlideOpenError } from '../../../src/slides/types';
import { SLIDE } from '../../support/slideHelpers';

// A real missing library: CYTOTUNE_OPENSLIDE points the loader at a file that does not exist.
describe('without the OpenSlide library', () => {
  const saved = process.env.CYTOTUNE_OPENSLIDE;
  process.env.CYTOTUNE_OPENSLIDE = '/nonexistent/libopenslide.so.0';
  resetOpenSlideForTests();
  afterAll(() => {
    if (saved === undefined) delete process.env.CYTOTUNE_OPENSLIDE;
    else process.env.CYTOTUNE_OPENSLIDE = saved;
    resetOpenSlideForTests();
  });

  it('loading reports unavailability as a value, not a throw', () => {
    const load = loadOpenSlide();
    expect(load.ok).toBe(false);
    if (!load.ok) {
      expect(load.kind).toBe('openslide-unavailable');
      expect(load.message).toMatch(/OpenSlide library not found/);
    }
    expect(openSlideAvailability().available).toBe(false);
  });

  it('openSlide falls back to sharp for the SVS and says so', async () => {
    const r = await openSlide(SLIDE);
    expect(r.readerName).toBe('sharp');
    expect(r.dimensions).toEqual([2220, 2967]);
    r.close();
  });

  it('asking for OpenSlide explicitly gives an error naming the file and the missing library', async () => {
    const err = await openWithOpenSlide(SLIDE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlideOpenError);
    expect((err as Error).message).toMatch(/CMU-1-Small-Region\.svs: OpenSlide library not found/);
  });

  it('an OpenSlide-only format is refused with the reason', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tempDir } = await import('../../support/slideHelpers');
    const path = join(tempDir('ndpi'), 'scan.ndpi');
    writeFileSync(path, 'II*\0');
    await expect(openSlide(path)).rejects.toThrow(/scan\.ndpi: \.ndpi slides need OpenSlide; OpenSlide library not found/);
  });
});
