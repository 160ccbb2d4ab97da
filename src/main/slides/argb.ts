// OpenSlide returns premultiplied ARGB as native-endian uint32 (bytes B, G, R, A on the
// little-endian machines we ship). openslide-python un-premultiplies and then composites on
// the slide's background colour (Image.composite(tile, bg, tile)); for premultiplied input
// that is simply out = c + bg * (255 - a) / 255, which we compute directly.

/** (w*h*4) premultiplied BGRA bytes to (w*h*3) RGB composited on `bg`. */
export function argbToRgb(argb: Uint8Array, pixels: number, bg: readonly [number, number, number]): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  const [br, bgG, bb] = bg;
  for (let i = 0, j = 0; i < pixels; i++, j += 3) {
    const o = i * 4;
    const a = argb[o + 3];
    if (a === 255) {
      rgb[j] = argb[o + 2];
      rgb[j + 1] = argb[o + 1];
      rgb[j + 2] = argb[o];
    } else {
      // Transparent (outside the scanned area or the slide) shows the background.
      const k = (255 - a) / 255;
      rgb[j] = Math.min(255, Math.round(argb[o + 2] + br * k));
      rgb[j + 1] = Math.min(255, Math.round(argb[o + 1] + bgG * k));
      rgb[j + 2] = Math.min(255, Math.round(argb[o] + bb * k));
    }
  }
  return rgb;
}
