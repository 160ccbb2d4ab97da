import { describe, expect, it } from 'vitest';
import { argbToRgb } from '../../../src/slides/argb';
import { parseBackground } from '../../../src/slides/types';

describe('premultiplied ARGB from OpenSlide to RGB', () => {
  it('drops alpha of opaque pixels and composites transparent ones on the background colour', () => {
    // Little-endian uint32 ARGB = bytes B, G, R, A.
    const argb = new Uint8Array([
      30,
      20,
      10,
      255, // opaque (10,20,30)
      0,
      0,
      0,
      0, // fully transparent: background
      0,
      0,
      100,
      128, // red at ~50 % (premultiplied 100): 100 + bg * 127/255
    ]);
    const bg = parseBackground('204060');
    expect(bg).toEqual([0x20, 0x40, 0x60]);
    expect([...argbToRgb(argb, 3, bg)]).toEqual([
      10,
      20,
      30,
      0x20,
      0x40,
      0x60,
      100 + Math.round((0x20 * 127) / 255),
      Math.round((0x40 * 127) / 255),
      Math.round((0x60 * 127) / 255),
    ]);
  });

  it('uses white when the background property is absent or malformed', () => {
    expect(parseBackground(undefined)).toEqual([255, 255, 255]);
    expect(parseBackground('zzz')).toEqual([255, 255, 255]);
  });
});
