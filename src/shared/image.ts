// Pixels and geometry shared by every process: decoded images, boxes and points in level-0
// pixels of an image or slide, and (width, height) sizes.

/** Decoded 8-bit RGB, interleaved, row-major: width * height * 3 bytes. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** A box in level-0 pixels of its image: top-left (x, y), width w and height h. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A point in level-0 pixels of its image. */
export interface Point {
  x: number;
  y: number;
}

/** (width, height), as OpenSlide and Deep Zoom give dimensions. */
export type Size = readonly [number, number];
