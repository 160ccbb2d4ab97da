// Reads, crops, resizes and normalises classification patches straight into a batch buffer: the
// one definition of "a patch as the engine's input", used in the preprocessing threads and, when
// they are off, in the job's own thread.
import { prepareEvalInto, type PipelineOptions } from '../data/imagePipeline';
import type { PatchItem } from '../../shared/jobs';
import { PatchSource } from '../data/patchSource';
import { ResizeScratch } from '../data/resize';

export class PatchPreparer {
  private readonly source = new PatchSource();
  // Resized patches of one batch size after another: the same two buffers every time.
  private readonly scratch = new ResizeScratch();
  /** Values of one image in a batch buffer: 3 * S * S. */
  readonly per: number;

  constructor(private readonly pipeline: PipelineOptions) {
    this.per = 3 * pipeline.size * pipeline.size;
  }

  /**
   * items[i] into `out` as image `first + i` ([n, 3, S, S] NCHW). The reads are started together
   * (sharp decodes them in its libuv pool) and each is preprocessed as it arrives, in order.
   */
  async prepare(items: readonly PatchItem[], out: Float32Array, first: number): Promise<void> {
    const reads = items.map((item) => this.source.readItem(item));
    for (const r of reads) r.catch(() => {}); // the first failure is thrown below, in order
    for (let i = 0; i < items.length; i++) prepareEvalInto(this.pipeline, await reads[i], out, (first + i) * this.per, this.scratch);
  }

  close(): Promise<void> {
    return this.source.close();
  }
}
