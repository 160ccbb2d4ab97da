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
