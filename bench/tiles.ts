// Tile latency and throughput on CMU-1-Small-Region.svs (all 160 tiles of 13 Deep Zoom levels,
// 254 px + 1 overlap, JPEG q85) for our tile service over OpenSlide and over the sharp fallback,
// beside `vips dzsave` and openslide-python's DeepZoomGenerator on the same slide.
//   node --import tsx bench/tiles.ts [--slide PATH] [--repeat N]
// cold: a fresh service per pass (new slide handle, empty tile cache; libvips' and the OS's
//       file caches stay warm, as in an app that reopens a slide);
// warm: the same tiles again from the service's LRU;
// parallel: a fresh service, tiles requested 6 at a time (a browser's connection limit), with
//           the worst event-loop stall seen meanwhile.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allTiles } from '../src/shared/deepZoom';
import { TileService } from '../src/slides/tileService';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const SLIDE = opt('--slide', 'test/fixtures/data/slides/CMU-1-Small-Region.svs');
const REPEAT = Number(opt('--repeat', '3'));

interface Row {
  name: string;
  tiles: number;
  coldMedianMs?: number;
  coldP95Ms?: number;
  warmMedianMs?: number;
  warmP95Ms?: number;
  coldTilesPerS: number;
  parallelTilesPerS?: number;
  maxLoopStallMs?: number;
  firstViewMs?: number;
  note?: string;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

async function benchService(name: string, extra: Partial<ConstructorParameters<typeof TileService>[0]>): Promise<Row> {
  const make = () => new TileService({ resolvePath: () => SLIDE, ...extra });
  const cold: number[] = [];
  const warm: number[] = [];
  let coldTotal = 0;
  let firstView = 0;
  let tiles = 0;
  for (let pass = 0; pass < REPEAT; pass++) {
    const svc = make();
    const t0 = performance.now();
    const { layout } = await svc.slide('s');
    const list = [...allTiles(layout)];
    tiles = list.length;
    for (const t of list) {
      const a = performance.now();
      await svc.getTile('s', t.level, t.col, t.row);
      cold.push(performance.now() - a);
      // OpenSeadragon's first screen: every level up to the one where the slide fills ~1000 px.
      if (t.level === 10 && t.col === layout.levelTiles[10][0] - 1 && t.row === layout.levelTiles[10][1] - 1)
        firstView += performance.now() - t0;
    }
    coldTotal += performance.now() - t0;
    for (const t of list) {
      const a = performance.now();
      await svc.getTile('s', t.level, t.col, t.row);
      warm.push(performance.now() - a);
    }
    svc.close();
  }
  // Parallel cold pass with an event-loop stall probe.
  const svc = make();
  const { layout } = await svc.slide('s');
  const list = [...allTiles(layout)];
  let last = performance.now();
  let stall = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 1);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (next < list.length) {
        const t = list[next++];
        await svc.getTile('s', t.level, t.col, t.row);
      }
    }),
  );
  const parallelMs = performance.now() - t0;
  clearInterval(probe);
  svc.close();
  return {
    name,
    tiles,
    coldMedianMs: quantile(cold, 0.5),
    coldP95Ms: quantile(cold, 0.95),
    warmMedianMs: quantile(warm, 0.5),
    warmP95Ms: quantile(warm, 0.95),
    coldTilesPerS: (tiles * REPEAT) / (coldTotal / 1000),
    parallelTilesPerS: tiles / (parallelMs / 1000),
    maxLoopStallMs: stall,
    firstViewMs: firstView / REPEAT,
  };
}

function benchDzsave(): Row | null {
  const dir = mkdtempSync(join(tmpdir(), 'dzsave-'));
  try {
    const times: number[] = [];
    for (let pass = 0; pass < REPEAT; pass++) {
      rmSync(join(dir, 'out_files'), { recursive: true, force: true });
      const t0 = performance.now();
      const r = spawnSync('vips', ['dzsave', SLIDE, join(dir, 'out'), '--tile-size', '254', '--overlap', '1', '--suffix', '.jpeg[Q=85]'], {
        encoding: 'utf8',
      });
      if (r.status !== 0) return null;
      times.push(performance.now() - t0);
    }
    const count = Number(execFileSync('sh', ['-c', `find ${join(dir, 'out_files')} -name '*.jpeg' | wc -l`], { encoding: 'utf8' }).trim());
    const ms = quantile(times, 0.5);
    return {
      name: 'vips dzsave (whole pyramid, CLI)',
      tiles: count,
      coldTilesPerS: count / (ms / 1000),
      note: `${ms.toFixed(0)} ms for all tiles incl. process start`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const PY = `
import sys, time, io, json, statistics
import openslide
from openslide.deepzoom import DeepZoomGenerator
path, repeat = sys.argv[1], int(sys.argv[2])
lat = []; total = 0.0; n = 0
for _ in range(repeat):
    t0 = time.perf_counter()
    osr = openslide.OpenSlide(path)
    dz = DeepZoomGenerator(osr, 254, 1, False)
    for level in range(dz.level_count):
        cols, rows = dz.level_tiles[level]
        for row in range(rows):
            for col in range(cols):
                a = time.perf_counter()
                buf = io.BytesIO(); dz.get_tile(level, (col, row)).save(buf, 'jpeg', quality=85)
                lat.append((time.perf_counter() - a) * 1000); n += 1
    total += time.perf_counter() - t0
    osr.close()
lat.sort()
print(json.dumps({'tiles': n // repeat, 'median': lat[len(lat)//2], 'p95': lat[min(len(lat)-1, int(0.95*len(lat)))], 'tps': n / total}))
`;

function benchPython(): Row | null {
  const r = spawnSync('/usr/bin/python3', ['-c', PY, SLIDE, String(REPEAT)], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const j = JSON.parse(r.stdout) as { tiles: number; median: number; p95: number; tps: number };
  return {
    name: 'openslide-python DeepZoomGenerator + PIL JPEG',
    tiles: j.tiles,
    coldMedianMs: j.median,
    coldP95Ms: j.p95,
    coldTilesPerS: j.tps,
    note: 'no tile cache (warm = cold)',
  };
}

const rows: Row[] = [];
rows.push(await benchService('tile service, OpenSlide reader', { prefer: 'openslide' }));
rows.push(await benchService('tile service, sharp reader', { prefer: 'sharp' }));
rows.push(await benchService('tile service, OpenSlide, no overview (exact DZG path)', { prefer: 'openslide', overviewMaxSide: 0 }));
const dz = benchDzsave();
if (dz) rows.push(dz);
const py = benchPython();
if (py) rows.push(py);

const f = (x: number | undefined, d = 1) => (x === undefined ? '-' : x.toFixed(d));
console.log(`slide ${SLIDE}, ${REPEAT} passes, tile 254+1, JPEG q85`);
console.log(
  [
    'reader',
    'tiles',
    'cold med ms',
    'cold p95 ms',
    'warm med ms',
    'warm p95 ms',
    'cold tiles/s',
    '6-par tiles/s',
    'loop stall ms',
    'first view ms',
  ].join(' | '),
);
for (const r of rows) {
  console.log(
    [
      r.name,
      r.tiles,
      f(r.coldMedianMs),
      f(r.coldP95Ms),
      f(r.warmMedianMs, 3),
      f(r.warmP95Ms, 3),
      f(r.coldTilesPerS, 0),
      f(r.parallelTilesPerS, 0),
      f(r.maxLoopStallMs),
      f(r.firstViewMs, 0),
    ].join(' | ') + (r.note ? `  (${r.note})` : ''),
  );
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/tiles.json', import.meta.url),
  JSON.stringify({ slide: SLIDE, repeat: REPEAT, date: new Date().toISOString(), rows }, null, 2) + '\n',
);
