// What a cytotune command is, and the one place that turns its failures into exit codes. A command
// declares its options once (typed, for the parser) and its usage text once (for --help); the
// dispatcher in index.ts knows only its name, summary and how to import it.
import { parseArgs, UsageError, type OptionSpecs, type Parsed, type ParseOptions } from './args';
import type { Io } from './io';

export interface Command {
  name: string;
  /** One line for `cytotune --help` (index.ts keeps a copy so --help imports no command; a test compares them). */
  summary: string;
  /** What `cytotune <name> --help` prints: synopsis first, then notes. The only list of its options. */
  usage: string;
  options: OptionSpecs;
  run(argv: string[], io: Io): Promise<number>;
}

export interface CommandDefinition<O extends OptionSpecs, D> {
  name: string;
  summary: string;
  usage: string;
  options: O;
  positionals?: ParseOptions['positionals'];
  /** Runs with parsed options; throws UsageError (exit 2) or errors with a `kind` (exit 1). */
  main(args: Parsed<O>, io: Io, deps: D): Promise<number>;
}

/** A command whose `run` parses argv, answers --help and reports failures as one line each. */
export function defineCommand<const O extends OptionSpecs, D = Record<string, never>>(
  def: CommandDefinition<O, D>,
): Command & { run(argv: string[], io: Io, deps?: D): Promise<number> } {
  const run = async (argv: string[], io: Io, deps?: D): Promise<number> => {
    try {
      const args = parseArgs(argv, def.options, { positionals: def.positionals });
      if (args.help) {
        io.out(def.usage);
        return 0;
      }
      return await def.main(args, io, deps ?? ({} as D));
    } catch (err) {
      return reportFailure(def.name, err, io);
    }
  };
  return { name: def.name, summary: def.summary, usage: def.usage, options: def.options, run };
}

const firstLine = (s: string) => s.split('\n')[0];

/**
 * Usage errors exit 2 and expected failures (errors with a `kind`) exit 1, each as one line on
 * stderr that the user can act on; anything else is a bug and is rethrown (index.ts prints its stack).
 */
export function reportFailure(name: string, err: unknown, io: Io): number {
  const e = err as Error & { kind?: unknown };
  if (err instanceof UsageError) {
    io.err(`${name}: ${firstLine(e.message)} (see \`cytotune ${name} --help\`)`);
    return 2;
  }
  if (e && typeof e.kind === 'string') {
    io.err(`${name}: ${firstLine(e.message)}`);
    return 1;
  }
  throw err;
}

/** An expected failure: exit 1 with `message` (one line, saying what to do). */
export function failure(kind: string, message: string): Error & { kind: string } {
  return Object.assign(new Error(message), { kind });
}
