// Nucleus detection throughput on a synthetic LBC slide of >= 25 megapixels at the detection
// level (Herlev cells on glass, pyramidal JPEG TIFF, see scripts/synthetic-lbc-slide.ts).
//   node --import tsx bench/detect.ts [--crops DIR] [--size 5120] [--cells 2600] [--seed 1] [--keep DIR]
// Rows: the full run through the app's slide readers (JPEG decode included) with and without skipping glass-only
// tiles, detection alone on tiles already in memory, and level 1 (1 um/px). Prints a table,
// writes bench/results/detect.json, and extrapolates to a 20 mm LBC spot at 0.5 um/px.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSyntheticLbcSlide, type SyntheticSlide } from '../scripts/synthetic-lbc-slide';
import { detectCells, matchDetections, memoryRegionSource, PAP_LBC_PRESET, type RegionSource } from '../src/slides/cells/index';
import { openSlide } from '../src/slides/slideOpener';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const CROPS = opt(
  '--crops',
  process.env.CYTOTUNE_HERLEV_DIR ??
    (existsSync('test/fixtures/data/herlev-40px') ? 'test/fixtures/data/herlev-40px' : 'test/fixtures/cells/herlev-sample'),
);
const SIZE = Number(opt('--size', '5120'));
const CELLS = Number(opt('--cells', '2600'));
const SEED = Number(opt('--seed', '1'));
const KEEP = args.includes('--keep') ? opt('--keep', '') : null;
const TILE = 1024;

interface Row {
  name: string;
  megapixels: number;
  seconds: number;
  cpuSeconds: number;
  mpPerS: number;
  cells: number;
  recall: number;
  precision: number;
  tiles: number;
  tilesSkipped: number;
}

async function run(
  name: string,
  source: RegionSource,
  slide: SyntheticSlide,
  o: { level?: number; skipBackground?: boolean },
): Promise<Row> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await detectCells(source, PAP_LBC_PRESET, { tileSize: TILE, ...o });
  const cpu = process.cpuUsage(c0);
  const seconds = (performance.now() - t0) / 1000;
  const m = matchDetections(slide.cells, r.detections);
  const mp = (slide.width * slide.height) / r.downsample ** 2 / 1e6;
  return {
    name,
    megapixels: mp,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    mpPerS: mp / seconds,
    cells: r.detections.length,
    recall: m.recall,
    precision: m.precision,
    tiles: r.tilesTotal,
    tilesSkipped: r.tilesSkipped,
  };
}

const dir = KEEP || mkdtempSync(join(tmpdir(), 'cytotune-bench-detect-'));
mkdirSync(dir, { recursive: true });
const out = join(dir, `lbc-${SIZE}-${CELLS}-${SEED}.tiff`);
const g0 = performance.now();
// With --keep, a slide generated before with the same size, cells and seed is reused (generation takes a minute).
const slideReused = Boolean(KEEP && existsSync(out) && existsSync(out.replace(/\.tiff$/, '.csv')));
const slide: SyntheticSlide = slideReused
  ? reuse(out)
  : await generateSyntheticLbcSlide({ out, cells: CELLS, seed: SEED, sourceDir: CROPS, width: SIZE, height: SIZE });
const generateSeconds = (performance.now() - g0) / 1000;

function reuse(path: string): SyntheticSlide {
  const truthPath = path.replace(/\.tiff$/, '.csv');
  const cells = readFileSync(truthPath, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [x, y, radius, className, source, nucleusRadius] = line.split(',');
      return { x: +x, y: +y, radius: +radius, className, source, nucleusRadius: +nucleusRadius };
    });
  return { path, truthPath, width: SIZE, height: SIZE, mpp: 0.5, cells };
}
console.log(
  `synthetic slide: ${slide.width}x${slide.height} px (${((slide.width * slide.height) / 1e6).toFixed(1)} MP), ${slide.cells.length} cells, from ${CROPS}, generated in ${generateSeconds.toFixed(1)} s`,
);

const tiff = await openSlide(out);
// Warm-up (JIT, libvips' file cache) on a corner, untimed.
await detectCells(memoryRegionSource(await tiff.readRegion(0, 0, 0, 1536, 1536), tiff.mpp), PAP_LBC_PRESET, { tileSize: TILE });
const rows: Row[] = [];
rows.push(await run('level 0, JPEG TIFF via openSlide, skip glass tiles', tiff, slide, {}));
rows.push(await run('level 0, JPEG TIFF via openSlide, every tile', tiff, slide, { skipBackground: false }));
// Detection alone: the decoded level 0 in memory, so no JPEG decoding is timed.
const decoded = await tiff.readRegion(0, 0, 0, slide.width, slide.height);
rows.push(
  await run('level 0, pixels in memory (detection only)', memoryRegionSource(decoded, tiff.mpp), slide, {
    skipBackground: false,
    level: 0,
  }),
);
rows.push(await run('level 1 (1 um/px), JPEG TIFF via openSlide', tiff, slide, { level: 1 }));

const pad = (s: string | number, n: number): string => String(s).padStart(n);
console.log(
  `\n${'run'.padEnd(46)}${pad('MP', 7)}${pad('s', 7)}${pad('cpu s', 7)}${pad('MP/s', 7)}${pad('cells', 7)}${pad('recall', 8)}${pad('prec.', 7)}${pad('tiles', 7)}${pad('skip', 6)}`,
);
for (const r of rows)
  console.log(
    `${r.name.padEnd(46)}${pad(r.megapixels.toFixed(1), 7)}${pad(r.seconds.toFixed(2), 7)}${pad(r.cpuSeconds.toFixed(2), 7)}${pad(r.mpPerS.toFixed(2), 7)}${pad(r.cells, 7)}${pad(r.recall.toFixed(3), 8)}${pad(r.precision.toFixed(3), 7)}${pad(r.tiles, 7)}${pad(r.tilesSkipped, 6)}`,
  );

// A 20 mm diameter LBC spot (ThinPrep) at 0.5 um/px: pi * (10 mm)^2 / (0.5 um)^2 pixels.
const spotMp = (Math.PI * 10_000 ** 2) / 0.25 / 1e6;
const every = rows[1];
const level1 = rows[3];
const extrapolation = {
  spotMegapixels: spotMp,
  secondsEveryTileLevel0: spotMp / every.mpPerS,
  secondsEveryTileLevel1: spotMp / 4 / level1.mpPerS,
  note: 'Every tile processed, at the MP/s measured above. A real spot is mostly glass between cells; skipped tiles cost nothing but the overview, so the time scales with the fraction of tiles holding cells.',
};
console.log(
  `\n20 mm LBC spot at 0.5 um/px: ${spotMp.toFixed(0)} MP -> ${(extrapolation.secondsEveryTileLevel0 / 60).toFixed(1)} min at level 0, ${(extrapolation.secondsEveryTileLevel1 / 60).toFixed(1)} min at level 1 (every tile; less where tiles are glass only)`,
);
const load = (await import('node:os')).loadavg()[0];
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, load average ${load.toFixed(1)} during the run (shared machine: compare cpu s with s)`,
);

mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/detect.json',
  JSON.stringify(
    {
      date: new Date().toISOString(),
      crops: CROPS,
      seed: SEED,
      width: slide.width,
      height: slide.height,
      truthCells: slide.cells.length,
      generateSeconds,
      tileSize: TILE,
      detector: PAP_LBC_PRESET,
      machine: { cpus: cpus().length, model: cpus()[0]?.model, loadAverage: load },
      rows,
      extrapolation,
    },
    null,
    2,
  ) + '\n',
);
console.log('wrote bench/results/detect.json');
if (!KEEP) rmSync(dir, { recursive: true, force: true });
