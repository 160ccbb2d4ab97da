// The `cytotune` command: headless use of the same core as the workstation. Commands are imported
// only when they run: each pulls in tfjs, sharp or SQLite, which `cytotune --help` and `--version`
// must not pay for. A command's options and notes live in its own file (`cytotune <command> --help`).
import { readFileSync } from 'node:fs';
import type { Command } from './command';
import { processIo, type Io } from './io';

interface Entry {
  /** The same line as the command's own `summary` (test/unit/cli/index.test.ts compares them). */
  summary: string;
  load: () => Promise<{ command: Command }>;
}

// In `cytotune --help` order: projects, the ML workflow, then diagnostics.
export const COMMANDS: Record<string, Entry> = {
  init: { summary: 'create an empty project', load: () => import('./commands/init') },
  import: { summary: 'import images, slides and ImageFolder trees into a project', load: () => import('./commands/import') },
  info: { summary: 'classes (tree, label counts) and image counts of a project', load: () => import('./commands/info') },
  export: { summary: 'labels, predictions and detected cells as CSV or QuPath GeoJSON', load: () => import('./commands/export') },
  serve: { summary: 'browser mode: the workstation on 127.0.0.1', load: () => import('./commands/serve') },
  lab: { summary: 'a lab server: shared projects and a GPU job queue on PostgreSQL', load: () => import('./commands/lab') },
  worker: { summary: "run a lab's train, classify and detect jobs on this machine", load: () => import('./commands/worker') },
  train: { summary: 'fine-tune (LoRA) or probe (linear) a checkpoint on an ImageFolder', load: () => import('./commands/train') },
  predict: { summary: 'classify images with a trained run (CSV; accuracy on a labelled folder)', load: () => import('./commands/predict') },
  classify: {
    summary: 'classify every cell (or tissue patch) of a slide with a trained run; one CSV row each',
    load: () => import('./commands/classify'),
  },
  experiment: {
    summary: "the paper's grid: checkpoints x methods x shots x seeds x learning rates",
    load: () => import('./commands/experiment'),
  },
  study: {
    summary: "the paper's whole study (Table 1, Figures 1 and 2) from its datasets and checkpoints",
    load: () => import('./commands/study'),
  },
  embed: { summary: 'embeddings of images or of a normalised .npy batch', load: () => import('./commands/embed') },
  detect: { summary: 'find every cell (nucleus) of a slide; one row per cell', load: () => import('./commands/detect') },
  'slide-info': { summary: 'what a slide is: reader, levels, downsamples, mpp, vendor', load: () => import('./commands/slideInfo') },
  doctor: { summary: 'the ML backend chosen, why not the others, versions, GPU', load: () => import('./commands/doctor') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    'usage: cytotune <command> [options]',
    '',
    ...Object.entries(COMMANDS).map(([name, e]) => `  ${name.padEnd(width)}  ${e.summary}`),
    '',
    'Run `cytotune <command> --help` for its options. `cytotune --version` prints the version.',
  ].join('\n');
}

/** From package.json, two folders up from both src/cli/index.ts and the built out/cli/index.js. */
export function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0] && COMMANDS[rest[0]]) return main([rest[0], '--help'], io);
    io.out(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    io.out(version());
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.err(`cytotune: unknown command "${name}". Run \`cytotune --help\`.`);
    return 2;
  }
  try {
    const { command } = await entry.load();
    return await command.run(rest, io);
  } catch (err) {
    // Commands report usage errors and expected failures themselves: this is a bug (or a broken install).
    const e = err as Error;
    io.err(`cytotune ${name}: ${e?.message ?? String(err)}`);
    io.err(e?.stack ?? '');
    return 1;
  }
}
