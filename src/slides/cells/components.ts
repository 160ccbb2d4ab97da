// Binary-mask plumbing: threshold, fill holes (pale vesicular nuclei leave gaps that would
// otherwise look like necks to the splitter), and connected-component labelling.

export interface Component {
  label: number;
  area: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Background pixels not reachable from the image border (4-connected) become foreground. */
export function fillHoles(mask: Uint8Array, w: number, h: number): void {
  const outside = new Uint8Array(w * h);
  const queue = new Int32Array(w * h);
  let head = 0;
  let tail = 0;
  const seed = (i: number): void => {
    if (!mask[i] && !outside[i]) {
      outside[i] = 1;
      queue[tail++] = i;
    }
  };
  for (let x = 0; x < w; x++) {
    seed(x);
    seed((h - 1) * w + x);
  }
  for (let y = 0; y < h; y++) {
    seed(y * w);
    seed(y * w + w - 1);
  }
  while (head < tail) {
    const i = queue[head++];
    const x = i % w;
    if (x > 0) seed(i - 1);
    if (x < w - 1) seed(i + 1);
    if (i >= w) seed(i - w);
    if (i < w * (h - 1)) seed(i + w);
  }
  for (let i = 0; i < w * h; i++) if (!outside[i]) mask[i] = 1;
}

/**
 * 8-connected labelling by two passes with union-find. `labels` gets 1..n (0 = background);
 * returns one Component per label, with its area and inclusive bounding box.
 */
export function labelComponents(mask: Uint8Array, w: number, h: number, labels: Int32Array): Component[] {
  const parent: number[] = [0];
  const find = (a: number): number => {
    while (parent[a] !== a) a = parent[a] = parent[parent[a]];
    return a;
  };
  const union = (a: number, b: number): number => {
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) return ra;
    const [lo, hi] = ra < rb ? [ra, rb] : [rb, ra];
    parent[hi] = lo;
    return lo;
  };
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const i = row + x;
      if (!mask[i]) {
        labels[i] = 0;
        continue;
      }
      let l = 0;
      // Already-visited 8-neighbours: W, NW, N, NE.
      if (x > 0 && labels[i - 1]) l = labels[i - 1];
      if (y > 0) {
        const up = i - w;
        if (x > 0 && labels[up - 1]) l = l ? union(l, labels[up - 1]) : labels[up - 1];
        if (labels[up]) l = l ? union(l, labels[up]) : labels[up];
        if (x < w - 1 && labels[up + 1]) l = l ? union(l, labels[up + 1]) : labels[up + 1];
      }
      if (!l) {
        l = parent.length;
        parent.push(l);
      }
      labels[i] = l;
    }
  }
  const compact = new Int32Array(parent.length);
  const comps: Component[] = [];
  for (let i = 0; i < w * h; i++) {
    const l = labels[i];
    if (!l) continue;
    const root = find(l);
    if (!compact[root]) {
      compact[root] = comps.length + 1;
      comps.push({ label: comps.length + 1, area: 0, x0: w, y0: h, x1: -1, y1: -1 });
    }
    const c = comps[compact[root] - 1];
    labels[i] = c.label;
    const x = i % w;
    const y = (i / w) | 0;
    c.area++;
    if (x < c.x0) c.x0 = x;
    if (x > c.x1) c.x1 = x;
    if (y < c.y0) c.y0 = y;
    if (y > c.y1) c.y1 = y;
  }
  return comps;
}
