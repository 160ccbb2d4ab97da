// A least-recently-used map with a budget in bytes (tiles) or in entries (open slide handles).
// Map iteration order is insertion order, so re-inserting on hit makes the first key the oldest.

export interface LruOptions<V> {
  /** Total budget in units of `sizeOf` (bytes for tiles, 1 per entry for handles). */
  budget: number;
  sizeOf: (value: V) => number;
  /** Called for every value that leaves the cache (eviction, delete, clear). */
  onEvict?: (key: string, value: V) => void;
}

export class LruCache<V> {
  private readonly map = new Map<string, { value: V; size: number }>();
  private used = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly options: LruOptions<V>) {
    if (!(options.budget >= 0)) throw new RangeError(`LRU budget must be >= 0, got ${options.budget}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** Sum of sizeOf over the entries held. */
  get usedBudget(): number {
    return this.used;
  }

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  /** Insert; a value larger than the whole budget is not kept (and evicted at once). */
  set(key: string, value: V): void {
    this.delete(key);
    const size = this.options.sizeOf(value);
    if (size > this.options.budget) {
      this.options.onEvict?.(key, value);
      return;
    }
    this.map.set(key, { value, size });
    this.used += size;
    while (this.used > this.options.budget) {
      const oldest = this.map.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(key: string): boolean {
    const e = this.map.get(key);
    if (!e) return false;
    this.map.delete(key);
    this.used -= e.size;
    this.options.onEvict?.(key, e.value);
    return true;
  }

  /** Delete every key for which `match` is true. */
  deleteWhere(match: (key: string) => boolean): void {
    for (const key of [...this.map.keys()]) if (match(key)) this.delete(key);
  }

  clear(): void {
    this.deleteWhere(() => true);
  }
}
