// One line for each product package of scripts/system-packages.txt that this machine lacks:
// what is slower or unavailable without it and the command that adds it. `serve` (and so
// `npm start`) prints these at start; `doctor` prints the same lines.
import { installCommand, missingPackages, systemPackages } from './systemPackages.mjs';

export function systemNotes(): string[] {
  const product = systemPackages().filter((p) => p.need === 'product');
  const missing = new Set(missingPackages(product.map((p) => p.name)));
  return product
    .filter((p) => missing.has(p.name))
    .map((p) => `${p.name} is not installed: ${p.purpose}. Add it: ${installCommand([p.name])}`);
}
