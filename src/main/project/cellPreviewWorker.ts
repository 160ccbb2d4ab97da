// The thread that runs cells:preview (started by cellPreviewThread.ts): opens the slide, reads the
// view at the chosen level and runs the detector on it, so that neither the read nor up to 4 MP
// of detection ever runs on the main process's event loop. One request at a time, in order.
import { parentPort } from 'node:worker_threads';
import { CELL_PREVIEW_MAX_PIXELS, type CellPreview } from '../../shared/cells';
import { CellDetectionError, previewRegion } from '../../slides/cells';
import { openSlide } from '../../slides/slideOpener';
import type { PreviewJob, PreviewReply } from './cellPreviewThread';

class Refusal extends Error {
  constructor(
    readonly kind: 'invalid-input' | 'io',
    message: string,
  ) {
    super(message);
  }
}

async function preview(job: PreviewJob): Promise<CellPreview> {
  const { path, level, x0, y0, x1, y1 } = job;
  const reader = await openSlide(path).catch((err: Error) => {
    throw new Refusal('io', `Cannot read this slide: ${err.message.split(path).join('<file>')}`);
  });
  try {
    if (level >= reader.levelCount)
      throw new Refusal('invalid-input', `This slide has ${reader.levelCount} levels; level ${level} does not exist.`);
    const ds = reader.levelDownsamples[level];
    const w = Math.max(1, Math.round((x1 - x0) / ds));
    const h = Math.max(1, Math.round((y1 - y0) / ds));
    if (w * h > CELL_PREVIEW_MAX_PIXELS) {
      const mp = (n: number) => (n / 1e6).toFixed(1);
      throw new Refusal(
        'invalid-input',
        `The view is ${mp(w * h)} megapixels (${w} x ${h} px) at level ${level}; the preview reads at most ${mp(CELL_PREVIEW_MAX_PIXELS)}: zoom in.`,
      );
    }
    const t0 = performance.now();
    const rgb = await reader.readRegion(level, x0, y0, w, h);
    let out;
    try {
      out = previewRegion(rgb, job.params, { mpp: reader.mpp, downsample: ds, x0, y0 });
    } catch (err) {
      if (err instanceof CellDetectionError) throw new Refusal('invalid-input', err.message);
      throw err;
    }
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

const port = parentPort!;
let queue = Promise.resolve();
port.on('message', (job: PreviewJob) => {
  queue = queue.then(async () => {
    let reply: PreviewReply;
    try {
      reply = { id: job.id, ok: true, preview: await preview(job) };
    } catch (err) {
      // A refusal is the user's to act on; anything else is a bug, reported with its message.
      const e = err as Error;
      reply = { id: job.id, ok: false, kind: err instanceof Refusal ? err.kind : 'internal', message: e?.message ?? String(err) };
    }
    port.postMessage(reply);
  });
});
