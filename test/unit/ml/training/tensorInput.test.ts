// Pre-processed tensor inputs (`cytotune train --tensor X.npy --labels FILE`) and the zero-length
// run (--steps 0 / --iters 0) at the level of the settings.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatNpy } from '../../../../src/ml/checkpoint/npy';
import { parseLabels, readTensorInput } from '../../../../src/ml/training/tensorInput';
import { loraSteps, resolveSettings } from '../../../../src/shared/training';
import { tempDir } from '../../../support/paths';

describe('tensor inputs', () => {
  it('labels are class names (sorted as ImageFolder sorts folders) or class indices', () => {
    expect(parseLabels('b\na\n\nb\n', 'l')).toEqual({ classNames: ['a', 'b'], labels: [1, 0, 1] });
    expect(parseLabels('2\n0\n', 'l')).toEqual({ classNames: ['0', '1', '2'], labels: [2, 0] });
    expect(() => parseLabels('\n', 'l.txt')).toThrow(/l.txt: no labels/);
  });

  it('rows come back unchanged through the pipeline, whatever the augmentation seed', async () => {
    const dir = tempDir();
    const data = Float32Array.from({ length: 2 * 3 * 4 * 4 }, (_, i) => i / 7);
    writeFileSync(join(dir, 'x.npy'), formatNpy({ shape: [2, 3, 4, 4], data }));
    writeFileSync(join(dir, 'y.txt'), 'cat\ndog\n');
    const t = readTensorInput(join(dir, 'x.npy'), join(dir, 'y.txt'), 4);
    expect(t.items.map((it) => it.label)).toEqual([0, 1]);
    const img = await t.decode(t.items[1].path);
    expect(Array.from(t.pipeline.prepare(img, 123))).toEqual(Array.from(data.subarray(48)));
    expect(t.pipeline.describe()).toMatchObject({ kind: 'tensor', augment: false });
    expect(() => readTensorInput(join(dir, 'x.npy'), join(dir, 'y.txt'), 8)).toThrow(/needs normalised float32 \(N, 3, 8, 8\)/);
  });
});

describe('zero-length runs', () => {
  it('--iters 0 and --steps 0 train nothing; the paper formula otherwise', () => {
    expect(loraSteps(resolveSettings({ shots: 2, nIters: 0 }), 10)).toBe(0);
    expect(loraSteps(resolveSettings({ shots: 2 }), 10)).toBe(250);
    expect(loraSteps(resolveSettings({ steps: 0 }), 10)).toBe(0);
    expect(() => resolveSettings({ steps: -1 })).toThrow(/steps must be 0 or a positive integer/);
    expect(resolveSettings({}).augment).toBe(true);
  });
});
