// Max-heap of pixel indices keyed by a float (typed arrays, no objects), for priority flooding.
export class PixelHeap {
  private keys: Float32Array;
  private items: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.keys = new Float32Array(Math.max(1, capacity));
    this.items = new Int32Array(Math.max(1, capacity));
  }

  push(item: number, key: number): void {
    if (this.size === this.items.length) this.grow();
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.keys[p] >= key) break;
      this.keys[i] = this.keys[p];
      this.items[i] = this.items[p];
      i = p;
    }
    this.keys[i] = key;
    this.items[i] = item;
  }

  pop(): number {
    const top = this.items[0];
    const key = this.keys[--this.size];
    const item = this.items[this.size];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.size) break;
      if (c + 1 < this.size && this.keys[c + 1] > this.keys[c]) c++;
      if (this.keys[c] <= key) break;
      this.keys[i] = this.keys[c];
      this.items[i] = this.items[c];
      i = c;
    }
    this.keys[i] = key;
    this.items[i] = item;
    return top;
  }

  private grow(): void {
    const keys = new Float32Array(this.keys.length * 2);
    const items = new Int32Array(this.items.length * 2);
    keys.set(this.keys);
    items.set(this.items);
    this.keys = keys;
    this.items = items;
  }
}

/**
 * Hierarchical queue for flooding: values quantised into buckets (LIFO within one), push and
 * pop in O(1). The order inside a bucket is arbitrary, which a watershed on smoothed data does
 * not notice at `step` far below the contrasts that separate nuclei.
 */
export class BucketQueue {
  private readonly head: Int32Array;
  private cur = -1;
  size = 0;

  /** `next` holds one link per pixel (length >= pixels); values below `lo` share bucket 0. */
  constructor(
    private readonly lo: number,
    private readonly step: number,
    buckets: number,
    private readonly next: Int32Array,
  ) {
    this.head = new Int32Array(buckets).fill(-1);
  }

  push(item: number, value: number): void {
    let b = Math.floor((value - this.lo) / this.step);
    b = b < 0 ? 0 : b >= this.head.length ? this.head.length - 1 : b;
    this.next[item] = this.head[b];
    this.head[b] = item;
    if (b > this.cur) this.cur = b;
    this.size++;
  }

  /** The item in the highest non-empty bucket. */
  pop(): number {
    while (this.head[this.cur] < 0) this.cur--;
    const item = this.head[this.cur];
    this.head[this.cur] = this.next[item];
    this.size--;
    return item;
  }
}
