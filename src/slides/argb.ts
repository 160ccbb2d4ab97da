// OpenSlide returns premultiplied ARGB as native-endian uint32 (bytes B, G, R, A on the
// little-endian machines we ship). openslide-python un-premultiplies and then composites on
// the slide's background colour (Image.composite(tile, bg, tile)); for premultiplied input
// that is simply out = c + bg * (255 - a) / 255, which we compute directly.

function convertRange(u32: Uint32Array, rgb: Uint8Array, from: number, to: number, bg: readonly [number, number, number]): void {
  const [br, bgG, bb] = bg;
  for (let i = from, j = from * 3; i < to; i++, j += 3) {
    const v = u32[i];
    const a = v >>> 24;
    if (a === 255) {
      rgb[j] = (v >>> 16) & 255;
      rgb[j + 1] = (v >>> 8) & 255;
      rgb[j + 2] = v & 255;
    } else {
      // Transparent (outside the scanned area or the slide) shows the background.
      const k = (255 - a) / 255;
      rgb[j] = Math.min(255, Math.round(((v >>> 16) & 255) + br * k));
      rgb[j + 1] = Math.min(255, Math.round(((v >>> 8) & 255) + bgG * k));
      rgb[j + 2] = Math.min(255, Math.round((v & 255) + bb * k));
    }
  }
}

function view32(argb: Uint8Array, pixels: number): Uint32Array {
  if (argb.byteOffset % 4 !== 0) argb = argb.slice();
  return new Uint32Array(argb.buffer, argb.byteOffset, pixels);
}

/** (w*h*4) premultiplied ARGB bytes to (w*h*3) RGB composited on `bg`. */
export function argbToRgb(argb: Uint8Array, pixels: number, bg: readonly [number, number, number]): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  convertRange(view32(argb, pixels), rgb, 0, pixels, bg);
  return rgb;
}

/** The same for large regions, yielding to the event loop every `chunk` pixels (~10 ms each) so tile requests keep flowing. */
export async function argbToRgbYielding(
  argb: Uint8Array,
  pixels: number,
  bg: readonly [number, number, number],
  chunk = 1 << 20,
): Promise<Uint8Array> {
  const rgb = new Uint8Array(pixels * 3);
  const u32 = view32(argb, pixels);
  for (let from = 0; from < pixels; from += chunk) {
    if (from > 0) await new Promise((resolve) => setImmediate(resolve));
    convertRange(u32, rgb, from, Math.min(pixels, from + chunk), bg);
  }
  return rgb;
}
