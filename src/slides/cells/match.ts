// Scoring detections against known cells: a detection matches a true cell when it lies within
// `tolerance` x the cell's radius of its centre; each cell and each detection is used at most
// once, closest (relative to the radius) pairs first.

export interface TrueCell {
  x: number;
  y: number;
  radius: number;
}

export interface MatchResult {
  /** [truth index, detection index] pairs. */
  pairs: Array<[number, number]>;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  recall: number;
  precision: number;
}

export function matchDetections(
  truth: readonly TrueCell[],
  detections: ReadonlyArray<{ x: number; y: number }>,
  tolerance = 0.8,
): MatchResult {
  // Bucket detections on a grid as coarse as the largest search radius, so each cell looks at 9 buckets.
  const reach = Math.max(1, ...truth.map((t) => t.radius * tolerance));
  const grid = new Map<string, number[]>();
  detections.forEach((d, j) => {
    const key = `${Math.floor(d.x / reach)},${Math.floor(d.y / reach)}`;
    grid.set(key, [...(grid.get(key) ?? []), j]);
  });
  const candidates: Array<[number, number, number]> = [];
  truth.forEach((t, i) => {
    const gx = Math.floor(t.x / reach);
    const gy = Math.floor(t.y / reach);
    for (let y = gy - 1; y <= gy + 1; y++)
      for (let x = gx - 1; x <= gx + 1; x++)
        for (const j of grid.get(`${x},${y}`) ?? []) {
          const rel = Math.hypot(detections[j].x - t.x, detections[j].y - t.y) / t.radius;
          if (rel <= tolerance) candidates.push([rel, i, j]);
        }
  });
  candidates.sort((a, b) => a[0] - b[0]);
  const usedT = new Uint8Array(truth.length);
  const usedD = new Uint8Array(detections.length);
  const pairs: Array<[number, number]> = [];
  for (const [, i, j] of candidates) {
    if (usedT[i] || usedD[j]) continue;
    usedT[i] = usedD[j] = 1;
    pairs.push([i, j]);
  }
  const tp = pairs.length;
  return {
    pairs,
    truePositives: tp,
    falsePositives: detections.length - tp,
    falseNegatives: truth.length - tp,
    recall: truth.length === 0 ? 1 : tp / truth.length,
    precision: detections.length === 0 ? 1 : tp / detections.length,
  };
}
