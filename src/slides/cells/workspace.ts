// Reusable per-tile buffers: a tile runner allocates its float planes once instead of ~20 MB per
// tile, which keeps the garbage collector quiet and memory flat over a whole slide.
export class Workspace {
  private readonly buffers = new Map<string, Float32Array | Int32Array | Uint8Array>();

  private get<T extends Float32Array | Int32Array | Uint8Array>(name: string, n: number, make: (n: number) => T): T {
    const have = this.buffers.get(name) as T | undefined;
    if (have && have.length >= n) return have.subarray(0, n) as T;
    const fresh = make(n);
    this.buffers.set(name, fresh);
    return fresh;
  }

  /** Contents are left over from the previous use: overwrite or clear them. */
  f32(name: string, n: number): Float32Array {
    return this.get(name, n, (k) => new Float32Array(k));
  }
  i32(name: string, n: number): Int32Array {
    return this.get(name, n, (k) => new Int32Array(k));
  }
  u8(name: string, n: number): Uint8Array {
    return this.get(name, n, (k) => new Uint8Array(k));
  }
}
