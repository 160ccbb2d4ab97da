// Synthetic liquid-based-cytology slide: real Herlev Pap cells laid on clean glass with faint
// debris, written as a pyramidal tiled JPEG TIFF carrying its microns per pixel, plus the truth
// (cell centres, radii, classes) as CSV. Tests, the benchmark and demos use it because no
// annotated LBC whole slide can be shipped.
//
//   npx tsx scripts/synthetic-lbc-slide.ts --out slide.tiff --cells 300 --seed 1 [--source DIR]
//     [--mpp 0.5] [--width W --height H | --fill 0.2] [--debris 1] [--quality 90] [--turn 1]
//     [--planted DIR --planted-side PX]
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { decodeBmp } from '../src/slides/bmp';
import { cellMask, nucleusBlob, otherDarkPixels } from './synthetic-lbc/cropMask';
import { DEFAULT_NUCLEUS_UM, makeSprite, NUCLEUS_UM, type Sprite } from './synthetic-lbc/cellSprite';
import { composeSlide, type Placement } from './synthetic-lbc/compose';
import { makeDebris } from './synthetic-lbc/debris';
import { Rng } from '../src/ml/random';

export interface SyntheticSlideOptions {
  /** Output .tif/.tiff path; the truth goes next to it as .csv unless `truthPath` is given. */
  out: string;
  truthPath?: string;
  cells: number;
  seed: number;
  /** ImageFolder of crops: <dir>/<class>/<image>.bmp (Herlev 40 px layout). */
  sourceDir: string;
  /** Microns per pixel of level 0 (default 0.5, a 20x scan). */
  mpp?: number;
  /** Slide size in px; by default a square whose area the cells cover at `fill`. */
  width?: number;
  height?: number;
  /** Fraction of the glass the cells' masks cover when the size is derived (default 0.2). */
  fill?: number;
  /** Debris density multiplier (default 1; 0 for clean glass). */
  debris?: number;
  /** JPEG quality of the tiles (default 90). */
  quality?: number;
  /**
   * Turn or flip each crop at random (default true) so repeated crops differ. False plants every
   * crop in its own orientation, for checks that compare a cell with its source crop.
   */
  turn?: boolean;
  /**
   * Also write each planted cell alone on clean glass, as the slide holds it before neighbours,
   * debris, noise and JPEG: a square of `side` px centred on its nucleus, <dir>/<n>.png with n the
   * cell's row in the truth (from 0). Checks use it to tell what the slide adds to a cell-centred
   * square from what the crop's own glass and framing change.
   */
  planted?: { dir: string; side: number };
}

export interface TruthCell {
  /**
   * Nucleus centre (the generator's own half-maximum blob on the crop, see cropMask.ts), and the
   * cell's radius: the equivalent radius of its mask, at least 1.5 x the nucleus radius (a
   * naked nucleus' mask is little more than the nucleus). Level-0 px.
   */
  x: number;
  y: number;
  radius: number;
  nucleusRadius: number;
  className: string;
  source: string;
  /** The picture written under `plantedDir`, when asked for. */
  planted?: string;
}

export interface SyntheticSlide {
  path: string;
  truthPath: string;
  width: number;
  height: number;
  mpp: number;
  cells: TruthCell[];
}

interface Crop {
  className: string;
  file: string;
}

async function listCrops(dir: string): Promise<Crop[]> {
  const crops: Crop[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => {
    throw new Error(`crop folder ${dir} not found: pass --source DIR (Herlev layout <class>/<image>.bmp) or set CYTOTUNE_HERLEV_DIR`);
  });
  for (const cls of entries
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort())
    for (const f of (await readdir(join(dir, cls))).sort()) if (/\.bmp$/i.test(f)) crops.push({ className: cls, file: join(dir, cls, f) });
  if (crops.length === 0) throw new Error(`no <class>/<image>.bmp crops under ${dir}`);
  return crops;
}

/** A class uniformly, then a crop of it, so rare classes appear as often as common ones. */
function pickCrop(crops: Crop[], rng: Rng): Crop {
  const classes = [...new Set(crops.map((c) => c.className))];
  const cls = classes[rng.int(classes.length)];
  const of = crops.filter((c) => c.className === cls);
  return of[rng.int(of.length)];
}

/** Crops whose visible cell shows something as dark as its nucleus elsewhere (see otherDarkPixels). */
async function screenCrops(crops: Crop[]): Promise<Crop[]> {
  const kept: Crop[] = [];
  for (const c of crops) {
    const img = decodeBmp(await readFile(c.file));
    const blob = nucleusBlob(img);
    if (otherDarkPixels(img, blob, cellMask(img, blob)) < MAX_OTHER_DARK) kept.push(c);
  }
  if (kept.length === 0) throw new Error('every crop shows more than one nucleus-dark object: no single cells to place');
  return kept;
}
const MAX_OTHER_DARK = 3;

/** Rejection sampling: centres at least 0.85 (ri + rj) apart, so nuclei never touch across cells. */
function place(sprites: Array<{ sprite: Sprite }>, w: number, h: number, rng: Rng): Array<{ x: number; y: number }> {
  const placed: Array<{ cx: number; cy: number; r: number }> = [];
  const cellSize = 64;
  const grid = new Map<number, number[]>();
  const gw = Math.ceil(w / cellSize);
  const maxR = Math.max(...sprites.map((s) => s.sprite.radius));
  const out: Array<{ x: number; y: number }> = [];
  for (const { sprite: s } of sprites) {
    let ok = false;
    for (let attempt = 0; attempt < 400 && !ok; attempt++) {
      const cx = rng.uniform(s.radius, w - s.radius);
      const cy = rng.uniform(s.radius, h - s.radius);
      const reach = Math.ceil((s.radius + maxR) / cellSize);
      const gx = Math.floor(cx / cellSize);
      const gy = Math.floor(cy / cellSize);
      ok = true;
      for (let y = gy - reach; y <= gy + reach && ok; y++)
        for (let x = gx - reach; x <= gx + reach && ok; x++)
          for (const j of grid.get(y * gw + x) ?? []) {
            const q = placed[j];
            if (Math.hypot(q.cx - cx, q.cy - cy) < 0.85 * (q.r + s.radius)) ok = false;
          }
      if (!ok) continue;
      const key = gy * gw + gx;
      grid.set(key, [...(grid.get(key) ?? []), placed.length]);
      placed.push({ cx, cy, r: s.radius });
      out.push({ x: Math.round(cx - s.cx), y: Math.round(cy - s.cy) });
    }
    if (!ok) throw new Error(`cannot fit ${sprites.length} cells on ${w}x${h} px: make the slide larger or ask for fewer cells`);
  }
  return out;
}

const WHITE = [238, 236, 241] as const;

/** Each placed sprite alone on glass of the slide's colour, centred on its nucleus; no vignetting, noise or debris. */
async function writePlanted(
  o: { dir: string; side: number },
  placements: Placement[],
  cells: TruthCell[],
  white: readonly [number, number, number],
): Promise<void> {
  await mkdir(o.dir, { recursive: true });
  // Its own RNG: composing draws noise samples, which must not move the slide's draws.
  const rng = new Rng(1);
  for (const [k, { sprite }] of placements.entries()) {
    const at = { x: Math.round(o.side / 2 - sprite.nucleusX), y: Math.round(o.side / 2 - sprite.nucleusY) };
    const rgb = composeSlide({
      width: o.side,
      height: o.side,
      placements: [{ sprite, ...at }],
      dots: [],
      white,
      vignetting: 0,
      noise: 0,
      rng,
    });
    cells[k].planted = join(o.dir, `${k}.png`);
    await sharp(rgb, { raw: { width: o.side, height: o.side, channels: 3 } })
      .png()
      .toFile(cells[k].planted);
  }
}

export async function generateSyntheticLbcSlide(o: SyntheticSlideOptions): Promise<SyntheticSlide> {
  const mpp = o.mpp ?? 0.5;
  // mulberry32, the project's seeded RNG; seed 0 stands for a fixed non-zero state, as before.
  const rng = new Rng(o.seed >>> 0 || 0x9e3779b9);
  const crops = await screenCrops(await listCrops(o.sourceDir));
  const chosen = Array.from({ length: o.cells }, () => pickCrop(crops, rng));
  const sprites: Array<{ sprite: Sprite; crop: Crop }> = [];
  for (const crop of chosen) {
    // Herlev crops are squashed to 40x40 whatever the cell: scale each so its nucleus gets a realistic size.
    const [lo, hi] = NUCLEUS_UM[crop.className] ?? DEFAULT_NUCLEUS_UM;
    const sprite = await makeSprite(decodeBmp(await readFile(crop.file)), rng.uniform(lo, hi), mpp, rng, o.turn ?? true);
    sprites.push({ sprite, crop });
  }
  let { width, height } = o;
  if (!width || !height) {
    const area = sprites.reduce((a, s) => a + Math.PI * s.sprite.radius ** 2, 0) / (o.fill ?? 0.2);
    width = height = Math.ceil(Math.sqrt(area) / 16) * 16;
  }
  // Biggest first: they are the hardest to fit once the glass fills up.
  const order = [...sprites.keys()].sort((a, b) => sprites[b].sprite.radius - sprites[a].sprite.radius);
  const spots = place(
    order.map((i) => sprites[i]),
    width,
    height,
    rng,
  );
  const placements: Placement[] = order.map((i, k) => ({ sprite: sprites[i].sprite, ...spots[k] }));
  const cells: TruthCell[] = order.map((i, k) => ({
    x: spots[k].x + sprites[i].sprite.nucleusX,
    y: spots[k].y + sprites[i].sprite.nucleusY,
    radius: Math.max(sprites[i].sprite.radius, 1.5 * sprites[i].sprite.nucleusRadius),
    nucleusRadius: sprites[i].sprite.nucleusRadius,
    className: sprites[i].crop.className,
    source: sprites[i].crop.file.split(/[\\/]/).slice(-2).join('/'),
  }));
  const rgb = composeSlide({
    width,
    height,
    placements,
    dots: makeDebris(width, height, mpp, o.debris ?? 1, rng),
    white: WHITE,
    vignetting: 0.05,
    noise: 1.5,
    rng,
  });
  await mkdir(dirname(o.out), { recursive: true });
  if (o.planted) await writePlanted(o.planted, placements, cells, WHITE);
  await sharp(rgb, { raw: { width, height, channels: 3 }, limitInputPixels: false })
    .tiff({
      tile: true,
      tileWidth: 256,
      tileHeight: 256,
      pyramid: true,
      compression: 'jpeg',
      quality: o.quality ?? 90,
      xres: 1000 / mpp,
      yres: 1000 / mpp,
      resolutionUnit: 'cm',
    })
    .toFile(o.out);
  const truthPath = o.truthPath ?? o.out.replace(/\.tiff?$/i, '') + '.csv';
  const csv = [
    'x,y,radius,class,source,nucleus_radius',
    ...cells.map(
      (c) => `${c.x.toFixed(1)},${c.y.toFixed(1)},${c.radius.toFixed(1)},${c.className},${c.source},${c.nucleusRadius.toFixed(1)}`,
    ),
  ];
  await writeFile(truthPath, csv.join('\n') + '\n');
  return { path: o.out, truthPath, width, height, mpp, cells };
}

function parseArgs(argv: string[]): SyntheticSlideOptions {
  const a = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`expected --name value pairs, got '${argv[i]}'`);
    a.set(argv[i].slice(2), argv[i + 1]);
  }
  const num = (k: string): number | undefined => {
    if (!a.has(k)) return undefined;
    const v = Number(a.get(k));
    if (!Number.isFinite(v)) throw new Error(`--${k} must be a number`);
    return v;
  };
  if (!a.get('out')) throw new Error('--out <file.tiff> is required');
  return {
    out: a.get('out')!,
    cells: num('cells') ?? 200,
    seed: num('seed') ?? 1,
    sourceDir: a.get('source') ?? process.env.CYTOTUNE_HERLEV_DIR ?? 'test/fixtures/data/herlev-40px',
    mpp: num('mpp'),
    width: num('width'),
    height: num('height'),
    fill: num('fill'),
    debris: num('debris'),
    quality: num('quality'),
    turn: a.has('turn') ? num('turn') !== 0 : undefined,
    planted: a.has('planted') ? { dir: a.get('planted')!, side: num('planted-side') ?? 64 } : undefined,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const t0 = performance.now();
  generateSyntheticLbcSlide(parseArgs(process.argv.slice(2)))
    .then((s) =>
      console.log(
        `${s.path}: ${s.width}x${s.height} px at ${s.mpp} um/px, ${s.cells.length} cells (truth ${s.truthPath}), ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      ),
    )
    .catch((err: Error) => {
      console.error(`synthetic-lbc-slide: ${err.message}`);
      process.exitCode = 1;
    });
}
