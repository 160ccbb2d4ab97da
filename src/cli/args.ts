// The one argument parser of the cytotune command. Each command declares its options once, with a
// type; the parser turns argv into typed values and rejects what it cannot use with a message that
// names the option and what it expects ("--batch expects a positive integer, got "0""). Unknown
// options are errors, never silently ignored: a typo must not quietly fall back to a default.

/** Bad usage: the command line itself is wrong. Exit code 2. */
export class UsageError extends Error {
  readonly kind = 'usage';
}

export type OptionSpec =
  /** One value; with `choices`, one of them. Given twice, the last wins (as node's parseArgs). */
  | { type: 'string'; choices?: readonly string[]; required?: boolean }
  /** A finite number; `positive` rejects zero and below. */
  | { type: 'number'; positive?: boolean; required?: boolean }
  /** An integer within [min, max] when given. */
  | { type: 'int'; min?: number; max?: number; required?: boolean }
  /** Comma-separated values: `--targets q,v`. Empty items are dropped. */
  | { type: 'list'; required?: boolean }
  /** Present or not. */
  | { type: 'switch' }
  /**
   * May be given several times. `greedy` also takes the bare words that follow
   * (`--image a.png b.png`), which is how shells expand globs.
   */
  | { type: 'repeated'; greedy?: boolean; required?: boolean };

export type OptionSpecs = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S extends { type: 'switch' }
  ? boolean
  : S extends { type: 'repeated' }
    ? string[]
    : S extends { type: 'list' }
      ? string[] | undefined
      : S extends { type: 'number' | 'int' }
        ? number | undefined
        : S extends { choices: readonly (infer C)[] }
          ? C | undefined
          : string | undefined;

export type Values<O extends OptionSpecs> = { [K in keyof O]: ValueOf<O[K]> };

export interface Parsed<O extends OptionSpecs> {
  values: Values<O>;
  positionals: string[];
  /** `--help` or `-h` was given anywhere; nothing else was checked. */
  help: boolean;
}

export interface ParseOptions {
  /** Bare words allowed (a FILE, PATHs); by default any bare word is an error. */
  positionals?: { min?: number; max?: number; name: string };
}

/** "a, b or c" for short lists, "one of a, b, c, d, e" for long ones. */
export function choiceText(choices: readonly string[]): string {
  if (choices.length > 4) return `one of ${choices.join(', ')}`;
  return choices.length === 1 ? choices[0] : `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}`;
}

function intText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `an integer from ${min} to ${max}`;
  if (min === 1) return 'a positive integer';
  if (min === 0) return 'a non-negative integer';
  return min === undefined ? 'an integer' : `an integer >= ${min}`;
}

/** One raw value -> its typed value, or a UsageError saying what `--name` expects. */
function convert(name: string, spec: OptionSpec, raw: string): unknown {
  const bad = (what: string) => new UsageError(`--${name} expects ${what}, got "${raw}"`);
  switch (spec.type) {
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) throw new UsageError(`--${name} must be ${choiceText(spec.choices)} (got ${raw})`);
      return raw;
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || (spec.positive && !(n > 0)))
        throw bad(spec.positive ? 'a positive number' : 'a number');
      return n;
    }
    case 'int': {
      const n = Number(raw);
      const inRange = (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max);
      if (raw.trim() === '' || !Number.isInteger(n) || !inRange) throw bad(intText(spec.min, spec.max));
      return n;
    }
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

const isOption = (arg: string) => arg.startsWith('--') && arg.length > 2;

export function parseArgs<O extends OptionSpecs>(argv: string[], options: O, opts: ParseOptions = {}): Parsed<O> {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(options)) {
    if (spec.type === 'switch') values[name] = false;
    else if (spec.type === 'repeated') values[name] = [];
  }
  if (argv.includes('--help') || argv.includes('-h')) return { values: values as Values<O>, positionals: [], help: true };
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!isOption(arg)) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = options[name];
    if (!spec) throw new UsageError(`unknown option --${name}`);
    if (spec.type === 'switch') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      values[name] = true;
      continue;
    }
    // `--out --force` is a forgotten value, not a folder named "--force".
    const raw = eq >= 0 ? arg.slice(eq + 1) : argv[i + 1] !== undefined && !isOption(argv[i + 1]) ? argv[++i] : undefined;
    if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    if (spec.type === 'repeated') {
      const list = values[name] as string[];
      list.push(raw);
      if (spec.greedy) while (argv[i + 1] !== undefined && !argv[i + 1].startsWith('-')) list.push(argv[++i]);
    } else {
      values[name] = convert(name, spec, raw);
    }
  }
  for (const [name, spec] of Object.entries(options)) {
    if (spec.type === 'switch' || !spec.required) continue;
    const v = values[name];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) throw new UsageError(`--${name} is required`);
  }
  const p = opts.positionals;
  if (!p && positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (p && p.min !== undefined && positionals.length < p.min)
    throw new UsageError(p.min === 1 && p.max === 1 ? `expected one ${p.name}` : `give at least ${p.min} ${p.name}`);
  if (p && p.max !== undefined && positionals.length > p.max)
    throw new UsageError(p.max === 1 ? `expected one ${p.name}, got ${positionals.length}` : `at most ${p.max} ${p.name}`);
  return { values: values as Values<O>, positionals, help: false };
}
