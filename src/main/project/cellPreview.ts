// Detection on the viewer's current field, answered at once so a user can tune the two main
// parameters before running the whole slide. Main checks the request (parameters, the view
// clipped to the image); the read (through the same readers as the tiles, OpenSlide first) and
// the detection run on a worker thread (cellPreviewThread.ts), bounded to a few megapixels.
import { ApiError } from '../../shared/api';
import type { CellPreview, DetectionPresetInfo } from '../../shared/cells';
import type { Box } from '../../shared/image';
import { checkParams, PRESETS, type DetectionParams, type PresetName } from '../../slides/cells';
import { previewInThread } from './cellPreviewThread';
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

  return previewInThread({ path: image.path, level: req.level ?? 0, x0, y0, x1, y1, params: checked.params });
}
