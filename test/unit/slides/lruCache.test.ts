import { describe, expect, it } from 'vitest';
import { LruCache } from '../../../src/slides/lruCache';

describe('LruCache with a byte budget', () => {
  it('evicts the least recently used entries once the budget is exceeded', () => {
    const evicted: string[] = [];
    const c = new LruCache<Uint8Array>({ budget: 100, sizeOf: (b) => b.byteLength, onEvict: (k) => evicted.push(k) });
    c.set('a', new Uint8Array(40));
    c.set('b', new Uint8Array(40));
    expect(c.get('a')).toBeDefined(); // a is now the most recent
    c.set('c', new Uint8Array(40)); // 120 > 100: evict b
    expect(evicted).toEqual(['b']);
    expect(c.has('a') && c.has('c') && !c.has('b')).toBe(true);
    expect(c.usedBudget).toBe(80);
    expect([c.hits, c.misses]).toEqual([1, 0]);
  });

  it('does not keep a value larger than the whole budget, and replacing a key frees its old size', () => {
    const c = new LruCache<Uint8Array>({ budget: 10, sizeOf: (b) => b.byteLength });
    c.set('big', new Uint8Array(11));
    expect(c.size).toBe(0);
    c.set('k', new Uint8Array(6));
    c.set('k', new Uint8Array(8));
    expect(c.usedBudget).toBe(8);
    c.deleteWhere((k) => k === 'k');
    expect(c.usedBudget).toBe(0);
  });
});
