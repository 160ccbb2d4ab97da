// The family registry: every family's definition round-trips through its own random checkpoint,
// detection prefers the shortest prefix, and the registry (which src/main loads) pulls in no tfjs.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../../../src/ml/checkpoint/errors';
import { memoryCheckpoint, randomStateDict } from '../../../../src/ml/models/randomEncoder';
import { detectFamily, FAMILIES, FAMILY_NAMES, familyByName, isFamilyName } from '../../../../src/ml/models/registry';

describe('family registry', () => {
  it('lists the five families by name; familyByName refuses others with kind unknown-family', () => {
    expect(FAMILY_NAMES).toEqual(['openai-clip', 'hf-clip', 'timm-vit', 'open-clip-timm', 'hf-vit']);
    expect(familyByName('timm-vit')).toBe(FAMILIES[2]);
    expect(isFamilyName('hf-vit')).toBe(true);
    expect(isFamilyName('resnet')).toBe(false);
    expect(() => familyByName('resnet')).toThrow(CheckpointError);
    expect(() => familyByName('resnet')).toThrow(/choose one of openai-clip, hf-clip/);
  });

  for (const def of FAMILIES) {
    it(`${def.name}: its random checkpoint is detected as itself, also under a "module." prefix`, () => {
      const spec = { family: def.name, imageSize: 32, patchSize: 8, width: 64, depth: 2, outputDim: 16 };
      const tensors = memoryCheckpoint(randomStateDict(spec, 1)).tensors;
      const d = detectFamily(tensors);
      expect(d.config).toMatchObject({
        family: def.name,
        imageSize: 32,
        patchSize: 8,
        width: 64,
        depth: 2,
        mlpDim: 256,
        heads: 1,
        headsSource: 'width/64 guess',
      });
      expect(d.config.mean).toEqual(def.mean);
      expect(d.config.mean).not.toBe(def.mean); // a copy: configs may be edited without touching the family
      const prefixed = new Map([...tensors].map(([k, v]) => [`module.${k}`, v]));
      const p = detectFamily(prefixed);
      expect(p.config.family).toBe(def.name);
      expect(p.prefix).toBe(`module.${d.prefix}`);
      expect(detectFamily(tensors, { heads: 4 }).config).toMatchObject({ heads: 4, headsSource: 'option' });
    });
  }

  it('a BiomedCLIP checkpoint (timm trunk under visual.trunk.) is open-clip-timm, not timm-vit', () => {
    const tensors = memoryCheckpoint(
      randomStateDict({ family: 'open-clip-timm', imageSize: 16, patchSize: 8, width: 64, depth: 1 }, 2),
    ).tensors;
    expect(familyByName('timm-vit').detect([...tensors.keys()])).toBe('visual.trunk.');
    expect(detectFamily(tensors).config.family).toBe('open-clip-timm');
    // Forcing timm-vit reads the trunk alone.
    expect(detectFamily(tensors, { family: 'timm-vit' })).toMatchObject({
      prefix: 'visual.trunk.',
      config: { family: 'timm-vit', outputDim: 64 },
    });
  });
});

describe('what src/main loads', () => {
  /** Module specifiers a file imports at run time (type-only imports are erased). */
  function runtimeImports(file: string): string[] {
    const src = readFileSync(file, 'utf8');
    const specs: string[] = [];
    for (const m of src.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) specs.push(m[1]);
    for (const m of src.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]);
    return specs;
  }

  function closure(entry: string): Set<string> {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of runtimeImports(file)) {
        if (!spec.startsWith('.')) {
          seen.add(spec);
          continue;
        }
        const base = resolve(dirname(file), spec);
        const target = [`${base}.ts`, join(base, 'index.ts'), base].find((f) => existsSync(f) && f.endsWith('.ts'));
        if (!target) throw new Error(`${file}: cannot resolve ${spec}`);
        visit(target);
      }
    };
    visit(resolve(entry));
    return seen;
  }

  it('the registry and detection import no @tensorflow package', () => {
    for (const entry of ['src/ml/models/registry.ts']) {
      const mods = [...closure(entry)];
      expect(mods.some((m) => m.includes('families/hfVit.ts'))).toBe(true); // the scan follows imports
      expect(mods.filter((m) => m.includes('@tensorflow') || m.endsWith('/weightReader.ts') || m.endsWith('/vit.ts'))).toEqual([]);
    }
    expect(closure('src/ml/models/weightReader.ts').has('@tensorflow/tfjs-core')).toBe(true); // and would see tfjs
  });
});
