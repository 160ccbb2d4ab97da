#!/usr/bin/env node
// `node scripts/ensureSystemPackages.mjs [--product-only]`: makes sure the listed system
// packages are there before the test suite (or, with --product-only, reports what the app
// lacks). Prints nothing when all are installed. As root with apt-get it installs the missing
// ones and says so in one line; otherwise it names the command and exits 1.
// CYTOTUNE_SYSTEM_PACKAGES=skip: writes the test globs that need missing packages to stdout
// (one per line) for the test runner to leave out, and exits 0.
import { canInstall, install, installCommand, missingPackages, systemPackages } from '../src/cli/systemPackages.mjs';

const all = systemPackages();
const productOnly = process.argv.includes('--product-only');
const wanted = productOnly ? all.filter((p) => p.need === 'product') : all;
const missing = missingPackages(wanted.map((p) => p.name));
if (missing.length === 0) process.exit(0);

if (process.env.CYTOTUNE_SYSTEM_PACKAGES === 'skip') {
  for (const p of all.filter((x) => missing.includes(x.name))) for (const t of p.tests) process.stdout.write(`${t}\t${p.name}\n`);
  process.exit(0);
}
if (!canInstall()) {
  process.stderr.write(
    `CytoTune needs system packages that are missing (${missing.join(', ')}): run as root \`${installCommand(missing)}\`, or set CYTOTUNE_SYSTEM_PACKAGES=skip to leave out the tests that need them.\n`,
  );
  process.exit(1);
}
try {
  install(missing);
} catch (err) {
  process.stderr.write(`Could not install ${missing.join(', ')}: ${err.message}\n`);
  process.exit(1);
}
process.stderr.write(`Installed system packages: ${missing.join(', ')} (scripts/system-packages.txt).\n`);
