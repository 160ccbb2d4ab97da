// The colour a new class gets: the first colour of the palette no class uses yet, and past the
// palette colours of their own, spread around the hue circle (golden angle) and kept away from
// every colour in use, so the 11th class of a Bethesda tree is not the 1st one's blue again.
import { classPalette } from '../../shared/classes';

/** #rrggbb of an HSL colour (h in degrees, s and l in 0..1). */
export function hslToHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number) => {
    const k = (n + h / 30) % 12;
    const v = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(255 * v)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

function rgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** A rough perceptual distance between two colours (weighted RGB, "redmean"). */
export function colourDistance(a: string, b: string): number {
  const [r1, g1, b1] = rgb(a);
  const [r2, g2, b2] = rgb(b);
  const rm = (r1 + r2) / 2;
  return Math.sqrt((2 + rm / 256) * (r1 - r2) ** 2 + 4 * (g1 - g2) ** 2 + (2 + (255 - rm) / 256) * (b1 - b2) ** 2);
}

/** The colour for a new class, given the colours the project's classes already have. */
export function nextClassColor(used: readonly string[]): string {
  const taken = used.map((c) => c.toLowerCase());
  const free = classPalette.find((c) => !taken.includes(c));
  if (free) return free;
  // Golden-angle hues, three lightness/saturation bands so neighbours differ in more than hue.
  let best = { colour: classPalette[0], distance: -1 };
  for (let i = 0; i < 720; i++) {
    const hue = (i * 137.508 + 20) % 360;
    const band = i % 3;
    const colour = hslToHex(hue, [0.65, 0.5, 0.75][band], [0.45, 0.35, 0.6][band]);
    const distance = Math.min(...taken.map((t) => colourDistance(colour, t)));
    if (distance > 90) return colour;
    if (distance > best.distance) best = { colour, distance };
  }
  return best.colour;
}
