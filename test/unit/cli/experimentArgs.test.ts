// parseExperimentArgs is what the worker's experiment job receives: typed ExperimentOptions
// (paper defaults filled in) plus the backend, from the same parser as every other command.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/args';
import { parseExperimentArgs } from '../../../src/cli/commands/experiment';
import { experimentOptions, PAPER_PROTOCOL } from '../../../src/shared/training';

const base = ['--data', 'd', '--checkpoint', 'tiny=a.safetensors', '--out', 'o'];

describe('parseExperimentArgs', () => {
  it('without options, is experimentOptions() of the paper', () => {
    expect(parseExperimentArgs(base)).toEqual(
      experimentOptions({ data: 'd', out: 'o', checkpoints: [{ label: 'tiny', path: 'a.safetensors' }] }),
    );
  });

  it('types what is given, backend included; micro-batch never above batch', () => {
    const o = parseExperimentArgs([
      ...base,
      '--checkpoint',
      'b.bin',
      '--methods',
      'lora,lora',
      '--iters',
      '8',
      '--warmup',
      '0',
      '--batch',
      '4',
      '--micro-batch',
      '16',
      '--backend',
      'wasm',
      '--level',
      '2',
    ]);
    if (o === 'help') throw new Error('unexpected help');
    expect(o.checkpoints.map((c) => c.label)).toEqual(['tiny', 'b']);
    expect(o.methods).toEqual(['lora']);
    expect(o.protocol).toEqual({ ...PAPER_PROTOCOL, iters: 8, warmup: 0, batch: 4, level: 2 });
    expect([o.microBatch, o.backend]).toEqual([4, 'wasm']);
    expect(parseExperimentArgs([...base, '-h'])).toBe('help');
  });

  it('bad usage is a UsageError naming the option', () => {
    const cases: [string[], RegExp][] = [
      [['--iters', '0'], /--iters expects a positive integer, got "0"/],
      [['--methods', 'svm'], /--methods: "svm" is not linear or lora/],
      [['--shots', '1,x'], /--shots: "x" is not a positive integer/],
      [['--targets', 'q,z'], /unknown target "z"/],
      [['--backend', 'metal'], /--backend must be tensorflow, webgpu, wasm or cpu \(got metal\)/],
    ];
    for (const [extra, re] of cases) {
      expect(() => parseExperimentArgs([...base, ...extra])).toThrow(UsageError);
      expect(() => parseExperimentArgs([...base, ...extra])).toThrow(re);
    }
    expect(() => parseExperimentArgs(['--data', 'd', '--out', 'o'])).toThrow('--checkpoint is required');
  });
});
