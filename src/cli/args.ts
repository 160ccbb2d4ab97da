// A small argument parser for the cytotune command: --flag value, --flag=value, repeated
// flags, boolean switches and positionals. Unknown flags are errors, not silently ignored.

export class UsageError extends Error {
  readonly kind = 'usage';
}

export interface ParsedArgs {
  flags: Map<string, string[]>;
  switches: Set<string>;
  positionals: string[];
}

export function parseArgs(argv: string[], spec: { values?: string[]; switches?: string[] }): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const switches = new Set(spec.switches ?? []);
  const out: ParsedArgs = { flags: new Map(), switches: new Set(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      out.positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (switches.has(name)) {
      out.switches.add(name);
    } else if (values.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      out.flags.set(name, [...(out.flags.get(name) ?? []), value]);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return out;
}

export function requireFlag(args: ParsedArgs, name: string): string {
  const v = args.flags.get(name)?.[0];
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}
