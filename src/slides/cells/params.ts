// Detection parameters are physical (micrometres, optical density) so one setting works at
// any scanner resolution and pyramid level; toPixelParams turns them into pixels for one level.
import type { Mpp } from './types';
import { STAIN_VECTORS, type DetectionChannel, type StainName, type Rgb3 } from './stains';

/** Bump when a change can move, add or drop detections, so stored results can be told apart. */
export const DETECTOR_VERSION = 'cytotune-nuclei-1.0';

export interface DetectionParams {
  /**
   * Image the nuclei are found in: haematoxylin OD from colour deconvolution, or the OD sum of
   * R, G and B (as QuPath offers), better where counterstains overlap haematoxylin (Pap's light green).
   */
  channel: DetectionChannel;
  /** Stain whose first vector is haematoxylin (or give `stainVectors`). */
  stain: StainName;
  /** Optional custom optical-density vectors [haematoxylin, second stain]; overrides `stain`. */
  stainVectors?: readonly [Rgb3, Rgb3];
  /** Equivalent-disk diameter range of a nucleus, micrometres. */
  nucleusDiameterUm: { min: number; max: number };
  /** A nucleus must stand this far above its local background, haematoxylin OD units. */
  minContrastOd: number;
  /** Gaussian sigma applied before thresholding, micrometres (removes chromatin texture, noise). */
  smoothingSigmaUm: number;
  /** Half-side of the square whose grey opening is the local background, micrometres (>= 0.4 x max diameter). */
  backgroundRadiusUm: number;
  /** Split touching nuclei along necks of the distance map. */
  splitTouching: boolean;
  /** Reject shapes with 4 pi A / P^2 below this (0 keeps everything). */
  minCircularity: number;
  /**
   * Reject detections whose haematoxylin OD is below this fraction of their OD sum (pure
   * haematoxylin gives ~0.6): eosin, orange G and light-green debris and cytoplasm score lower.
   */
  minHaematoxylinShare: number;
  /** Keep a simplified outline polygon per detection. */
  outlines: boolean;
  /** Microns per level-0 pixel to assume when the image records none. */
  fallbackMppUm: number;
}

/**
 * Liquid-based cytology, Papanicolaou stain: sparse cells, nuclei from pyknotic (5 um) to HSIL
 * (24 um). Detected on the OD sum because Pap's light-green cytoplasm absorbs where haematoxylin
 * does; the contrast is in OD-sum units (about 1.6 x haematoxylin OD for a pure haematoxylin pixel).
 */
export const PAP_LBC_PRESET: DetectionParams = Object.freeze({
  channel: 'od-sum',
  stain: 'pap',
  nucleusDiameterUm: Object.freeze({ min: 5, max: 24 }),
  minContrastOd: 0.3,
  smoothingSigmaUm: 1.0,
  backgroundRadiusUm: 12,
  splitTouching: true,
  minCircularity: 0.45,
  minHaematoxylinShare: 0.2,
  outlines: true,
  fallbackMppUm: 0.5,
}) as DetectionParams;

/** H&E histology (close to QuPath's defaults): packed nuclei of 4-16 um on pink stroma. */
export const HE_HISTOLOGY_PRESET: DetectionParams = Object.freeze({
  channel: 'haematoxylin',
  stain: 'he',
  nucleusDiameterUm: Object.freeze({ min: 4, max: 16 }),
  minContrastOd: 0.1,
  smoothingSigmaUm: 0.75,
  backgroundRadiusUm: 8,
  splitTouching: true,
  minCircularity: 0.4,
  minHaematoxylinShare: 0.2,
  outlines: true,
  fallbackMppUm: 0.5,
}) as DetectionParams;

export const PRESETS = { 'pap-lbc': PAP_LBC_PRESET, 'he-histology': HE_HISTOLOGY_PRESET } as const;
export type PresetName = keyof typeof PRESETS;

/** Everything in pixels of the detection level. */
export interface PixelParams {
  channel: DetectionChannel;
  stainVectors: readonly [Rgb3, Rgb3];
  /** Microns per pixel of the detection level (mean of x and y). */
  umPerPx: number;
  /** True when the slide recorded no mpp and `fallbackMppUm` was assumed. */
  mppAssumed: boolean;
  downsample: number;
  minDiameterPx: number;
  maxDiameterPx: number;
  minAreaPx: number;
  maxAreaPx: number;
  sigmaPx: number;
  backgroundRadiusPx: number;
  minContrastOd: number;
  splitTouching: boolean;
  minCircularity: number;
  minHaematoxylinShare: number;
  outlines: boolean;
}

export type ParamsCheck =
  { ok: true; params: DetectionParams } | { ok: false; kind: 'invalid-params'; message: string; problems: string[] };

const positive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

/** Merge `overrides` onto `base` and check every field; problems are phrased for the user. */
export function checkParams(overrides: Partial<DetectionParams> = {}, base: DetectionParams = PAP_LBC_PRESET): ParamsCheck {
  const p: DetectionParams = {
    ...base,
    ...overrides,
    nucleusDiameterUm: { ...base.nucleusDiameterUm, ...overrides.nucleusDiameterUm },
  };
  const problems: string[] = [];
  if (p.channel !== 'haematoxylin' && p.channel !== 'od-sum')
    problems.push(`channel must be 'haematoxylin' or 'od-sum' (got '${p.channel}')`);
  if (!(p.stain in STAIN_VECTORS)) problems.push(`stain must be one of ${Object.keys(STAIN_VECTORS).join(', ')} (got '${p.stain}')`);
  if (p.stainVectors) {
    for (const v of p.stainVectors)
      if (v.length !== 3 || v.some((c) => !Number.isFinite(c) || c < 0) || v.every((c) => c === 0))
        problems.push('each stain vector needs three non-negative optical densities, not all zero');
  }
  const { min, max } = p.nucleusDiameterUm;
  if (!positive(min) || !positive(max)) problems.push('nucleus diameters must be positive numbers of micrometres');
  else if (min >= max) problems.push(`minimum nucleus diameter (${min} um) must be below the maximum (${max} um)`);
  else if (max > 200) problems.push(`maximum nucleus diameter ${max} um is implausible (are the units micrometres?)`);
  if (!positive(p.minContrastOd) || p.minContrastOd > 3)
    problems.push('minimum contrast must be an optical density between 0 and 3 (0.1 is typical)');
  if (!positive(p.smoothingSigmaUm) || (positive(min) && p.smoothingSigmaUm > min))
    problems.push('smoothing sigma must be positive and no larger than the minimum nucleus diameter');
  // The opening's square (side 2r) must not fit inside the largest nucleus, or it becomes background.
  if (!positive(p.backgroundRadiusUm) || (positive(max) && p.backgroundRadiusUm < max * 0.4))
    problems.push('background radius must be at least 0.4 x the maximum nucleus diameter');
  if (typeof p.minCircularity !== 'number' || !(p.minCircularity >= 0 && p.minCircularity < 1))
    problems.push('minimum circularity must be in [0, 1)');
  if (typeof p.minHaematoxylinShare !== 'number' || !(p.minHaematoxylinShare >= 0 && p.minHaematoxylinShare < 1))
    problems.push('minimum haematoxylin share must be in [0, 1)');
  if (!positive(p.fallbackMppUm)) problems.push('fallback microns per pixel must be positive');
  if (problems.length > 0)
    return { ok: false, kind: 'invalid-params', message: `Invalid cell detection settings: ${problems.join('; ')}.`, problems };
  return { ok: true, params: p };
}

export type PixelCheck = { ok: true; px: PixelParams } | { ok: false; kind: 'invalid-params'; message: string };

/**
 * Convert to pixels of a level with `downsample` on a slide with `mpp` (null: none recorded,
 * then `fallbackMppUm` is assumed and flagged). Refuses levels too coarse to resolve the
 * smallest nucleus, since every detection there would be noise.
 */
export function toPixelParams(p: DetectionParams, mpp: Mpp | null, downsample = 1): PixelCheck {
  const mppOk = mpp !== null && positive(mpp.x) && positive(mpp.y);
  const level0 = mppOk ? (mpp.x + mpp.y) / 2 : p.fallbackMppUm;
  const umPerPx = level0 * downsample;
  const minDiameterPx = p.nucleusDiameterUm.min / umPerPx;
  const maxDiameterPx = p.nucleusDiameterUm.max / umPerPx;
  if (minDiameterPx < 3) {
    return {
      ok: false,
      kind: 'invalid-params',
      message: `The smallest nucleus (${p.nucleusDiameterUm.min} um) is only ${minDiameterPx.toFixed(1)} px at ${umPerPx.toFixed(2)} um/px: detect at a finer pyramid level or raise the minimum diameter.`,
    };
  }
  return {
    ok: true,
    px: {
      channel: p.channel,
      stainVectors: p.stainVectors ?? STAIN_VECTORS[p.stain],
      umPerPx,
      mppAssumed: !mppOk,
      downsample,
      minDiameterPx,
      maxDiameterPx,
      minAreaPx: (Math.PI / 4) * minDiameterPx ** 2,
      maxAreaPx: (Math.PI / 4) * maxDiameterPx ** 2,
      sigmaPx: p.smoothingSigmaUm / umPerPx,
      backgroundRadiusPx: p.backgroundRadiusUm / umPerPx,
      minContrastOd: p.minContrastOd,
      splitTouching: p.splitTouching,
      minCircularity: p.minCircularity,
      minHaematoxylinShare: p.minHaematoxylinShare,
      outlines: p.outlines,
    },
  };
}
