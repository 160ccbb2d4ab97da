// Detection on the viewer's current field, answered at once so a user can tune the two main
// parameters before running the whole slide: the region is read through the same readers as the
// tiles (OpenSlide first) at the chosen level, bounded so a zoomed-out view cannot stall main.
import { ApiError } from '../../shared/api';
import { CELL_PREVIEW_MAX_PIXELS, type CellPreview, type DetectionPresetInfo } from '../../shared/cells';
import type { Box } from '../../shared/image';
import { CellDetectionError, checkParams, previewRegion, PRESETS, type DetectionParams, type PresetName } from '../../slides/cells';
import { openSlide } from '../../slides/slideOpener';
import type { Project } from './project';

export interface PreviewRequest {
  imageId: number;
  region: Box;
  preset?: PresetName;
  params?: Partial<DetectionParams>;
  level?: number;
}

const LABELS: Record<PresetName, string> = { 'pap-lbc': 'Pap (liquid-based)', 'he-histology': 'H&E histology' };

/** The presets the "Detect cells" form offers, with their two main parameters. */
export function detectionPresets(): DetectionPresetInfo[] {
  return (Object.keys(PRESETS) as PresetName[]).map((name) => ({
    name,
    label: LABELS[name],
    nucleusDiameterUm: { ...PRESETS[name].nucleusDiameterUm },
    minContrastOd: PRESETS[name].minContrastOd,
  }));
}

export async function previewCells(project: Project, req: PreviewRequest): Promise<CellPreview> {
  const image = project.requireImage(req.imageId);
  const checked = checkParams(req.params ?? {}, PRESETS[req.preset ?? 'pap-lbc']);
  if (!checked.ok) throw new ApiError('invalid-input', checked.message);
  // Clip to the image: the view may show glass beyond its edges.
  const x0 = Math.max(0, Math.floor(req.region.x));
  const y0 = Math.max(0, Math.floor(req.region.y));
  const x1 = Math.min(image.width, Math.ceil(req.region.x + req.region.w));
  const y1 = Math.min(image.height, Math.ceil(req.region.y + req.region.h));
  if (x1 <= x0 || y1 <= y0) throw new ApiError('invalid-input', 'The view shows no part of the image: pan back onto the slide.');

  const reader = await openSlide(image.path).catch((err: Error) => {
    throw new ApiError('io', `Cannot read this slide: ${err.message.split(image.path).join('<file>')}`);
  });
  try {
    const level = req.level ?? 0;
    if (level >= reader.levelCount)
      throw new ApiError('invalid-input', `This slide has ${reader.levelCount} levels; level ${level} does not exist.`);
    const ds = reader.levelDownsamples[level];
    const w = Math.max(1, Math.round((x1 - x0) / ds));
    const h = Math.max(1, Math.round((y1 - y0) / ds));
    if (w * h > CELL_PREVIEW_MAX_PIXELS) {
      const mp = (n: number) => (n / 1e6).toFixed(1);
      throw new ApiError(
        'invalid-input',
        `The view is ${mp(w * h)} megapixels (${w} x ${h} px) at level ${level}; the preview reads at most ${mp(CELL_PREVIEW_MAX_PIXELS)}: zoom in.`,
      );
    }
    const t0 = performance.now();
    const rgb = await reader.readRegion(level, x0, y0, w, h);
    const out = (() => {
      try {
        return previewRegion(rgb, checked.params, { mpp: reader.mpp, downsample: ds, x0, y0 });
      } catch (err) {
        if (err instanceof CellDetectionError) throw new ApiError('invalid-input', err.message);
        throw err;
      }
    })();
    return {
      region: { x: x0, y: y0, w: x1 - x0, h: y1 - y0 },
      level,
      cells: out.detections.map(({ areaPx: _areaPx, ...c }) => c),
      mppAssumed: out.mppAssumed,
      milliseconds: Math.round(performance.now() - t0),
    };
  } finally {
    reader.close();
  }
}
