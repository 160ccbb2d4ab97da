// The faint clutter of a real LBC preparation, as soft dots of stain: specks (bacteria, dust,
// 0.5-2 um), thin mucus strands, and broad haze from uneven thickness. All of it sits below a
// nucleus detector's size or contrast limits, which is what the synthetic slide should test.
import type { SoftDot } from './compose';
import type { Rng } from '../../src/ml/random';

export function makeDebris(width: number, height: number, mpp: number, density: number, rng: Rng): SoftDot[] {
  const mp = (width * height) / 1e6;
  const um = (v: number): number => v / mpp;
  const dots: SoftDot[] = [];
  const count = (perMp: number): number => Math.round(perMp * mp * density);
  for (let i = 0; i < count(40); i++) {
    const k = rng.uniform(0.1, 0.45);
    dots.push({ x: rng.uniform(0, width), y: rng.uniform(0, height), sigma: um(rng.uniform(0.25, 0.9)), od: [k * 0.9, k, k * 0.8] });
  }
  for (let i = 0; i < count(2); i++) {
    // A random walk with slowly turning heading; dots 1 px apart, so each carries peak / (sigma sqrt(2 pi)).
    const sigma = um(rng.uniform(0.4, 1.0));
    const peak = rng.uniform(0.03, 0.07);
    const per = peak / (sigma * Math.sqrt(2 * Math.PI));
    let x = rng.uniform(0, width);
    let y = rng.uniform(0, height);
    let heading = rng.uniform(0, 2 * Math.PI);
    const steps = Math.round(um(rng.uniform(60, 300)));
    for (let s = 0; s < steps; s++) {
      heading += rng.normal() * 0.05;
      x += Math.cos(heading);
      y += Math.sin(heading);
      dots.push({ x, y, sigma, od: [per * 0.9, per * 0.7, per * 0.4] });
    }
  }
  for (let i = 0; i < count(3); i++) {
    const k = rng.uniform(0.015, 0.04);
    dots.push({ x: rng.uniform(0, width), y: rng.uniform(0, height), sigma: um(rng.uniform(15, 40)), od: [k, k * 1.1, k * 0.7] });
  }
  return dots;
}
