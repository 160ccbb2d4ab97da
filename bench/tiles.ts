// Tile throughput of the tile service beside `vips dzsave`, on two slides:
//   - CMU-1-Small-Region.svs (2220 x 2967, one level, 240 px JPEG tiles, RGB);
//   - a 26 MP pyramidal tiled TIFF made here with the vips CLI: that region 2 x 2, saved with
//     `tiffsave --tile --pyramid --compression jpeg` (256 px YCbCr tiles, 6 levels).
// Each in the default layout (DeepZoomGenerator's 254 + 1) and in the native layout (the
// slide's own tile size, overlap 0, stored tiles passed through), against dzsave at the same
// tile size and overlap (JPEG q85), so every ratio compares like with like in one run.
//   node --import tsx bench/tiles.ts [--repeat N] [--baseline GIT_REF] [--slides svs,tiff]
// cold: a fresh service per pass (new handles, empty caches, libvips' operation cache
//       dropped), every tile of every level in order, one at a time;
// warm: the same tiles again from the tile cache;
// parallel: a fresh service, 6 tiles at a time (a browser's connection limit), with the worst
//           event-loop stall seen meanwhile;
// --baseline REF adds the tile service of that commit (default layout) as 'before' rows.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { allTiles, type DeepZoomLayout } from '../src/shared/deepZoom';
import { TileService, type TileServiceOptions } from '../src/slides/tileService';
import { longestStall } from '../test/support/loopStall';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const REPEAT = Number(opt('--repeat', '5'));
const BASELINE = opt('--baseline', '');
const SLIDES = opt('--slides', 'svs,tiff').split(',');
const SVS = 'test/fixtures/data/slides/CMU-1-Small-Region.svs';

interface Row {
  slide: string;
  name: string;
  geometry: string;
  tiles: number;
  coldMedianMs?: number;
  coldP95Ms?: number;
  warmMedianMs?: number;
  warmP95Ms?: number;
  coldTilesPerS: number;
  /** CPU time (all threads) per tile of a cold pass, median: what the work costs, whatever the machine's load. */
  cpuMsPerTile?: number;
  parallelTilesPerS?: number;
  maxLoopStallMs?: number;
  firstViewMs?: number;
  /** cold tiles/s over dzsave's tiles/s at the same geometry, same run. */
  vsDzsave?: number;
  note?: string;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

type Service = Pick<TileService, 'slide' | 'close'> & {
  getTile(id: string, level: number, col: number, row: number, o?: { layout?: 'native' }): Promise<Buffer>;
};
type Make = (o: Partial<TileServiceOptions>) => Service;

/** Close, and let renders still running finish, so they do not eat the next pass's CPU. */
async function closeDrained(svc: Service): Promise<void> {
  svc.close();
  const running = () => (svc as { stats?: () => { queue?: { running: number } } }).stats?.().queue?.running ?? 0;
  for (let i = 0; i < 500 && running() > 0; i++) await new Promise((r) => setTimeout(r, 2));
}

/** Drop libvips' operation cache so a pass decodes from the file again. */
function coldLibvips(): void {
  sharp.cache(false);
  sharp.cache({ memory: 50, files: 20, items: 100 });
}

/** One configuration measured pass by pass, so every configuration of a slide sees the same load. */
interface Bench {
  row: Row;
  /** One cold pass (and its warm pass): tiles/s. */
  pass(): Promise<number>;
  /** The 6-at-a-time pass with a stall probe. */
  parallel?(): Promise<void>;
}

function serviceBench(slide: string, path: string, name: string, make: Make, extra: Partial<TileServiceOptions>, layout?: 'native'): Bench {
  const create = () => make({ resolvePath: () => path, ...extra });
  const layoutOf = async (svc: Service): Promise<DeepZoomLayout> => {
    const s = await svc.slide('s');
    return layout === 'native' ? (s as { nativeLayout: DeepZoomLayout }).nativeLayout : s.layout;
  };
  const get = (svc: Service, t: { level: number; col: number; row: number }) =>
    svc.getTile('s', t.level, t.col, t.row, layout ? { layout } : {});
  const cold: number[] = [];
  const warm: number[] = [];
  const firstViews: number[] = [];
  const rates: number[] = [];
  const cpu: number[] = [];
  const row: Row = { slide, name, geometry: '', tiles: 0, coldTilesPerS: 0 };
  return {
    row,
    async pass() {
      coldLibvips();
      const svc = create();
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const l = await layoutOf(svc);
      row.geometry = `${l.tileSize}+${l.overlap}`;
      const list = [...allTiles(l)];
      row.tiles = list.length;
      // OpenSeadragon's first screen: every level up to the one where the slide fills ~1000 px.
      const viewLevel = l.levelDimensions.findIndex(([w, h]) => Math.max(w, h) >= 1000);
      for (const t of list) {
        const a = performance.now();
        await get(svc, t);
        cold.push(performance.now() - a);
        if (t.level === viewLevel && t.col === l.levelTiles[viewLevel][0] - 1 && t.row === l.levelTiles[viewLevel][1] - 1)
          firstViews.push(performance.now() - t0);
      }
      const rate = list.length / ((performance.now() - t0) / 1000);
      rates.push(rate);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000 / list.length);
      for (const t of list) {
        const a = performance.now();
        await get(svc, t);
        warm.push(performance.now() - a);
      }
      await closeDrained(svc);
      Object.assign(row, {
        coldMedianMs: quantile(cold, 0.5),
        coldP95Ms: quantile(cold, 0.95),
        warmMedianMs: quantile(warm, 0.5),
        warmP95Ms: quantile(warm, 0.95),
        coldTilesPerS: quantile(rates, 0.5),
        cpuMsPerTile: quantile(cpu, 0.5),
        firstViewMs: quantile(firstViews, 0.5),
      });
      return rate;
    },
    async parallel() {
      coldLibvips();
      const svc = create();
      const list = [...allTiles(await layoutOf(svc))];
      let next = 0;
      const { took, longestGap } = await longestStall(
        () =>
          Promise.all(
            Array.from({ length: 6 }, async () => {
              while (next < list.length) await get(svc, list[next++]);
            }),
          ),
        1,
      );
      row.parallelTilesPerS = list.length / (took / 1000);
      row.maxLoopStallMs = longestGap;
      await closeDrained(svc);
    },
  };
}

function dzsaveBench(slide: string, path: string, tileSize: number, overlap: number): Bench {
  const row: Row = { slide, name: 'vips dzsave (whole pyramid, CLI)', geometry: `${tileSize}+${overlap}`, tiles: 0, coldTilesPerS: 0 };
  const times: number[] = [];
  const cpu: number[] = [];
  return {
    row,
    async pass() {
      const dir = mkdtempSync(join(tmpdir(), 'dzsave-'));
      try {
        const t0 = performance.now();
        // bash's `time` reports the child's user and system CPU seconds on stderr's last line.
        const cmd = `TIMEFORMAT='%U %S'; time vips dzsave "$0" "$1" --tile-size ${tileSize} --overlap ${overlap} --suffix '.jpeg[Q=85]'`;
        const r = spawnSync('bash', ['-c', cmd, path, join(dir, 'out')], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`vips dzsave failed: ${r.stderr}`);
        times.push(performance.now() - t0);
        const [user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
        row.tiles = Number(
          execFileSync('sh', ['-c', `find ${join(dir, 'out_files')} -name '*.jpeg' | wc -l`], { encoding: 'utf8' }).trim(),
        );
        cpu.push(((user + sys) * 1000) / row.tiles);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const ms = quantile(times, 0.5);
      row.coldTilesPerS = row.tiles / (ms / 1000);
      row.cpuMsPerTile = quantile(cpu, 0.5);
      row.note = `median ${ms.toFixed(0)} ms for all tiles incl. process start`;
      return row.coldTilesPerS;
    },
  };
}

// openslide-python's DeepZoomGenerator + PIL, where installed (the reference implementation).
const PY = `
import sys, time, io, json
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

function benchPython(slide: string, path: string): Row | null {
  const r = spawnSync('/usr/bin/python3', ['-c', PY, path, String(REPEAT)], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const j = JSON.parse(r.stdout) as { tiles: number; median: number; p95: number; tps: number };
  const name = 'openslide-python DeepZoomGenerator + PIL JPEG';
  return {
    slide,
    name,
    geometry: '254+1',
    tiles: j.tiles,
    coldMedianMs: j.median,
    coldP95Ms: j.p95,
    coldTilesPerS: j.tps,
    note: 'no tile cache',
  };
}

/** The 26 MP pyramidal TIFF: the SVS region 2 x 2 (4440 x 5934), JPEG q85 tiles of 256 px. */
function makePyramidTiff(dir: string): string {
  const out = join(dir, 'pyramid-26mp.tif');
  const joined = join(dir, 'joined.v');
  execFileSync('vips', ['arrayjoin', [SVS, SVS, SVS, SVS].join(' '), joined, '--across', '2']);
  execFileSync('vips', [
    'tiffsave',
    joined,
    out,
    '--tile',
    '--pyramid',
    '--compression',
    'jpeg',
    '-Q',
    '85',
    '--tile-width',
    '256',
    '--tile-height',
    '256',
  ]);
  rmSync(joined);
  return out;
}

/** The tile service of an older commit, extracted beside the repository so it resolves our node_modules. */
async function baselineService(ref: string): Promise<Make> {
  const dir = resolve('.scratch', 'bench-baseline', ref.replace(/[^A-Za-z0-9._-]/g, '_'));
  if (!existsSync(join(dir, 'src/slides/tileService.ts'))) {
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${JSON.stringify(ref)} src/slides src/shared | tar -x -C ${JSON.stringify(dir)}`]);
  }
  const mod = (await import(join(dir, 'src/slides/tileService.ts'))) as { TileService: new (o: TileServiceOptions) => Service };
  return (o) => new mod.TileService(o as TileServiceOptions);
}

const current: Make = (o) => new TileService(o as TileServiceOptions);
const work = mkdtempSync(join(tmpdir(), 'tiles-bench-'));
const rows: Row[] = [];
try {
  const slides: [string, string][] = [];
  if (SLIDES.includes('svs')) slides.push(['svs', SVS]);
  if (SLIDES.includes('tiff')) slides.push(['tiff 26 MP', makePyramidTiff(work)]);
  const before = BASELINE ? await baselineService(BASELINE) : null;
  for (const [slide, path] of slides) {
    const probe = new TileService({ resolvePath: () => path });
    const { nativeLayout } = await probe.slide('s');
    probe.close();
    const benches: Bench[] = [dzsaveBench(slide, path, 254, 1)];
    if (before) benches.push(serviceBench(slide, path, `before (${BASELINE}), OpenSlide`, before, { prefer: 'openslide' }));
    if (before) benches.push(serviceBench(slide, path, `before (${BASELINE}), sharp`, before, { prefer: 'sharp' }));
    benches.push(
      serviceBench(slide, path, 'tile service, OpenSlide reader', current, { prefer: 'openslide' }),
      serviceBench(slide, path, 'tile service, sharp reader', current, { prefer: 'sharp' }),
      serviceBench(slide, path, 'tile service, native layout (passthrough)', current, { prefer: 'openslide' }, 'native'),
      dzsaveBench(slide, path, nativeLayout.tileSize, nativeLayout.overlap),
    );
    // Interleaved: pass p of every configuration runs before pass p + 1 of any.
    for (let pass = 0; pass < REPEAT; pass++) for (const b of benches) await b.pass();
    for (const b of benches) await b.parallel?.();
    const dz = benches.filter((b) => b.row.name.startsWith('vips dzsave')).map((b) => b.row);
    for (const { row } of benches) {
      const ref = dz.find((d) => d !== row && d.geometry === row.geometry);
      if (ref && !row.name.startsWith('vips')) row.vsDzsave = row.coldTilesPerS / ref.coldTilesPerS;
      rows.push(row);
    }
    const py = benchPython(slide, path);
    if (py) rows.push(py);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const f = (x: number | undefined, d = 1) => (x === undefined ? '-' : x.toFixed(d));
console.log(`${REPEAT} passes, JPEG q85, ${new Date().toISOString()}`);
const head = [
  'slide',
  'reader',
  'tile',
  'tiles',
  'cold med ms',
  'cold p95 ms',
  'warm med ms',
  'warm p95 ms',
  'cold tiles/s',
  'x dzsave',
  'cpu ms/tile',
  '6-par tiles/s',
  'loop stall ms',
  'first view ms',
];
console.log(`| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
for (const r of rows) {
  const cells = [r.slide, r.name, r.geometry, r.tiles, f(r.coldMedianMs), f(r.coldP95Ms), f(r.warmMedianMs, 3), f(r.warmP95Ms, 3)];
  cells.push(
    f(r.coldTilesPerS, 0),
    f(r.vsDzsave, 2),
    f(r.cpuMsPerTile, 2),
    f(r.parallelTilesPerS, 0),
    f(r.maxLoopStallMs),
    f(r.firstViewMs, 0),
  );
  console.log(`| ${cells.join(' | ')} |${r.note ? ` ${r.note}` : ''}`);
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/tiles.json', import.meta.url),
  JSON.stringify({ repeat: REPEAT, baseline: BASELINE || null, date: new Date().toISOString(), rows }, null, 2) + '\n',
);
