import { describe, expect, it } from 'vitest';
import { checkParams, DETECTOR_VERSION, HE_HISTOLOGY_PRESET, PAP_LBC_PRESET, toPixelParams } from '../../../../src/slides/cells/params';

describe('detection parameters', () => {
  it('has a version string to stamp results with', () => {
    expect(DETECTOR_VERSION).toMatch(/^cytotune-nuclei-\d+\.\d+$/);
  });

  it('both presets are valid', () => {
    expect(checkParams(PAP_LBC_PRESET).ok).toBe(true);
    expect(checkParams(HE_HISTOLOGY_PRESET).ok).toBe(true);
  });

  it('converts micrometres with the slide mpp and the level downsample', () => {
    // 0.25 um/px at level 0, level downsample 4: 1 um per level pixel.
    const r = toPixelParams(HE_HISTOLOGY_PRESET, { x: 0.25, y: 0.25 }, 4);
    if (!r.ok) throw new Error(r.message);
    expect(r.px.umPerPx).toBeCloseTo(1, 12);
    expect(r.px.minDiameterPx).toBeCloseTo(4, 12);
    expect(r.px.maxDiameterPx).toBeCloseTo(16, 12);
    expect(r.px.maxAreaPx).toBeCloseTo(Math.PI * 64, 9);
    expect(r.px.sigmaPx).toBeCloseTo(HE_HISTOLOGY_PRESET.smoothingSigmaUm, 12);
    expect(r.px.backgroundRadiusPx).toBeCloseTo(HE_HISTOLOGY_PRESET.backgroundRadiusUm, 12);
    expect(r.px.mppAssumed).toBe(false);
    // Anisotropic pixels use the mean.
    const a = toPixelParams(HE_HISTOLOGY_PRESET, { x: 0.2, y: 0.3 }, 2);
    expect(a.ok && a.px.umPerPx).toBeCloseTo(0.5, 12);
  });

  it('assumes fallbackMppUm when the image has no mpp, and flags it', () => {
    const r = toPixelParams({ ...PAP_LBC_PRESET, fallbackMppUm: 0.25 }, null, 1);
    if (!r.ok) throw new Error(r.message);
    expect(r.px.mppAssumed).toBe(true);
    expect(r.px.umPerPx).toBe(0.25);
    expect(r.px.minDiameterPx).toBeCloseTo(PAP_LBC_PRESET.nucleusDiameterUm.min / 0.25, 12);
  });

  it('refuses a level too coarse for the smallest nucleus, saying what to do', () => {
    const r = toPixelParams(PAP_LBC_PRESET, { x: 0.5, y: 0.5 }, 4);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/finer pyramid level/);
  });

  it('merges overrides onto the base and explains every problem', () => {
    const good = checkParams({ nucleusDiameterUm: { min: 6, max: 30 } }, PAP_LBC_PRESET);
    expect(good.ok && good.params.nucleusDiameterUm).toEqual({ min: 6, max: 30 });
    expect(good.ok && good.params.minContrastOd).toBe(PAP_LBC_PRESET.minContrastOd);
    const bad = checkParams({ nucleusDiameterUm: { min: 12, max: 8 }, minContrastOd: -1, minCircularity: 2 });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.kind).toBe('invalid-params');
    expect(bad.problems).toHaveLength(3);
    expect(bad.message).toMatch(/minimum nucleus diameter \(12 um\) must be below the maximum \(8 um\)/);
    expect(checkParams({ backgroundRadiusUm: 2 }).ok).toBe(false);
    expect(checkParams({ stain: 'giemsa' as never }).ok).toBe(false);
    expect(checkParams({ channel: 'red' as never }).ok).toBe(false);
  });
});
