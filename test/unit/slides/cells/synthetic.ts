// Synthetic stained images for the detector's unit tests: soft-edged disks (and ellipses) of a
// given haematoxylin optical density on white glass, rendered by Beer-Lambert with the H&E
// haematoxylin vector, so the expected answers are known exactly.
import { STAIN_VECTORS } from '../../../../src/slides/cells/stains';
import type { RgbImage } from '../../../../src/slides/cells/types';

export interface Blob {
  x: number;
  y: number;
  /** Radius along x (and y unless ry is given), px. */
  r: number;
  ry?: number;
  od: number;
}

const H = (() => {
  const v = STAIN_VECTORS.he[0];
  const n = Math.hypot(...v);
  return v.map((c) => c / n);
})();

/** White glass with blobs; edges anti-aliased over one pixel. Overlapping blobs add their OD. */
export function drawBlobs(width: number, height: number, blobs: readonly Blob[], white = 250): RgbImage {
  const od = new Float32Array(width * height);
  for (const b of blobs) {
    const ry = b.ry ?? b.r;
    for (let y = Math.max(0, Math.floor(b.y - ry - 2)); y <= Math.min(height - 1, b.y + ry + 2); y++)
      for (let x = Math.max(0, Math.floor(b.x - b.r - 2)); x <= Math.min(width - 1, b.x + b.r + 2); x++) {
        // Distance to the edge in px, approximately, for an ellipse.
        const q = Math.hypot((x + 0.5 - b.x) / b.r, (y + 0.5 - b.y) / ry);
        const edge = (1 - q) * Math.min(b.r, ry);
        const cover = Math.max(0, Math.min(1, edge + 0.5));
        od[y * width + x] += cover * b.od;
      }
  }
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < od.length; i++) for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.round(white * Math.pow(10, -od[i] * H[c]));
  return { data, width, height };
}
