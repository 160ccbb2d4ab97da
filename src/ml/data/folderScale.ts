// The training scale of an ImageFolder run (`cytotune train --data`): crops carry no microns per
// pixel, so only their median longer side in pixels. Recorded in the run's config.json so that
// `cytotune classify` cuts the cells of a slide at the crops' size.
import { decodeImage } from '../../slides/decodeImage';
import type { TrainingScale } from '../../shared/jobs';
import { median } from '../../shared/median';

/** At most this many images are measured (evenly spaced): a median of 200 is as good as of 20,000. */
const SAMPLE = 200;

export async function folderScale(paths: readonly string[]): Promise<TrainingScale | undefined> {
  const step = Math.max(1, paths.length / SAMPLE);
  const sides: number[] = [];
  for (let i = 0; i < paths.length; i += step) {
    // Decoded, not header-read: BMP crops (Herlev) are decoded by our own reader, not by libvips.
    const img = await decodeImage(paths[Math.floor(i)]).catch(() => null);
    if (img) sides.push(Math.max(img.width, img.height));
  }
  return sides.length ? { patchUm: null, patchPx: Math.round(median(sides)) } : undefined;
}
