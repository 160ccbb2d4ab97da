// The one parser every cytotune command uses: typed values, and a message naming the option and
// what it expects for everything it cannot use.
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../../src/cli/args';

const OPTIONS = {
  out: { type: 'string', required: true },
  method: { type: 'string', choices: ['lora', 'linear'] },
  family: { type: 'string', choices: ['a', 'b', 'c', 'd', 'e'] },
  batch: { type: 'int', min: 1 },
  port: { type: 'int', min: 0, max: 65535 },
  seed: { type: 'int' },
  lr: { type: 'number', positive: true },
  targets: { type: 'list' },
  image: { type: 'repeated', greedy: true },
  checkpoint: { type: 'repeated' },
  json: { type: 'switch' },
} as const;

const parse = (argv: string[], positionals?: { name: string; min?: number; max?: number }) => parseArgs(argv, OPTIONS, { positionals });
const usageError = (argv: string[]) => {
  try {
    parse(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
};

describe('parseArgs', () => {
  it('types every kind of option, with --name value and --name=value', () => {
    const { values, positionals, help } = parse([
      '--out=run',
      '--method',
      'linear',
      '--batch',
      '16',
      '--port=0',
      '--seed',
      '-3',
      '--lr',
      '1e-3',
      '--targets',
      'q, v,,',
      '--image',
      'a.png',
      'b.png',
      '--checkpoint',
      'x',
      '--checkpoint=y',
      '--json',
    ]);
    expect(values).toEqual({
      out: 'run',
      method: 'linear',
      family: undefined,
      batch: 16,
      port: 0,
      seed: -3,
      lr: 1e-3,
      targets: ['q', 'v'],
      image: ['a.png', 'b.png'],
      checkpoint: ['x', 'y'],
      json: true,
    });
    expect([positionals, help]).toEqual([[], false]);
  });

  it('defaults: switches false, repeated empty, the rest undefined; the last of a repeated single value wins', () => {
    const { values } = parse(['--out', 'a', '--out', 'b']);
    expect(values).toMatchObject({ out: 'b', json: false, image: [], checkpoint: [] });
    expect([values.batch, values.targets, values.method]).toEqual([undefined, undefined, undefined]);
  });

  it('says what each option expects', () => {
    expect(usageError(['--out', 'o', '--batch', '0'])).toBe('--batch expects a positive integer, got "0"');
    expect(usageError(['--out', 'o', '--batch', '2.5'])).toBe('--batch expects a positive integer, got "2.5"');
    expect(usageError(['--out', 'o', '--port', '70000'])).toBe('--port expects an integer from 0 to 65535, got "70000"');
    expect(usageError(['--out', 'o', '--seed', 'x'])).toBe('--seed expects an integer, got "x"');
    expect(usageError(['--out', 'o', '--lr', '0'])).toBe('--lr expects a positive number, got "0"');
    expect(usageError(['--out', 'o', '--method', 'svm'])).toBe('--method must be lora or linear (got svm)');
    expect(usageError(['--out', 'o', '--family', 'z'])).toBe('--family must be one of a, b, c, d, e (got z)');
    expect(usageError(['--batch', '2'])).toBe('--out is required');
    expect(usageError(['--out'])).toBe('--out needs a value');
    // A forgotten value is not an option's value.
    expect(usageError(['--out', '--json'])).toBe('--out needs a value');
    expect(usageError(['--out', 'o', '--bogus'])).toBe('unknown option --bogus');
    expect(usageError(['--out', 'o', '--json=yes'])).toBe('--json takes no value');
    expect(usageError(['--out', 'o', 'stray'])).toBe('unexpected argument "stray"');
  });

  it('positionals only where the command takes them, counted', () => {
    expect(parse(['--out', 'o', 'a', 'b'], { name: 'PATH', min: 1 }).positionals).toEqual(['a', 'b']);
    expect(() => parse(['--out', 'o'], { name: 'FILE', min: 1, max: 1 })).toThrow('expected one FILE');
    expect(() => parse(['--out', 'o', 'a', 'b'], { name: 'FILE', min: 1, max: 1 })).toThrow('expected one FILE, got 2');
    expect(parse(['--out', 'o', '--', '--json'], { name: 'PATH' }).positionals).toEqual(['--json']);
  });

  it('--help or -h anywhere asks for help, before anything is checked', () => {
    expect(parse(['--bogus', '-h']).help).toBe(true);
    expect(parse(['--help']).help).toBe(true);
  });
});
