// The `cytotune` command: headless use of the same core as the workstation.
import { UsageError } from './args';
import { processIo, type Io } from './io';
import { runExport, runImport, runInfo, runInit } from './commands/project';
import { runServe } from './commands/serve';
import { runSlideInfo } from './commands/slideInfo';
import { runDoctor } from './commands/doctor';
import { runEmbed } from './commands/embed';
import { runPredict } from './commands/predict';
import { runTrain } from './commands/train';
import { runExperiment } from './commands/experiment';

type Command = (argv: string[], io: Io) => Promise<number>;

const commands: Record<string, { run: Command; help: string }> = {
  init: { run: runInit, help: 'init --project FILE                      create an empty project' },
  import: { run: runImport, help: 'import --project FILE PATH... [--json]   import images, slides and ImageFolder trees' },
  info: { run: runInfo, help: 'info --project FILE [--json]             classes (tree, label counts) and image counts' },
  export: { run: runExport, help: 'export --project FILE --format csv|geojson [--image ID] [--run ID] [--out FILE]' },
  serve: { run: runServe, help: 'serve [--project FILE] [--port N]        browser mode on 127.0.0.1' },
  doctor: { run: runDoctor, help: 'doctor                                   ML backend chosen, why not the others, versions, GPU' },
  embed: {
    run: runEmbed,
    help: 'embed --checkpoint FILE [--family F] (--image IMG... | --tensor X.npy) [--output OUT.npy|OUT.json]',
  },
  train: {
    run: runTrain,
    help: 'train --data DIR --checkpoint FILE --method lora|linear [--shots N] [--seed S] [--rank R] [--targets q,v] [--lr X] [--iters N] [--val DIR] [--test DIR] --out RUN_DIR',
  },
  experiment: {
    run: runExperiment,
    help: 'experiment --data DIR --checkpoint [NAME=]FILE... --out DIR [--methods] [--shots] [--seeds] [--lrs] [--percent] [--budget] [--split] [--tree] [--level]',
  },
  predict: { run: runPredict, help: 'predict --run RUN_DIR (--image IMG... | --folder DIR) [--csv OUT]' },
  'slide-info': { run: runSlideInfo, help: 'slide-info FILE [--json]                 reader, levels, downsamples, mpp, vendor' },
};

export function usage(): string {
  return ['usage: cytotune <command> [options]', '', ...Object.values(commands).map((c) => '  ' + c.help)].join('\n');
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    io.err(`cytotune: unknown command "${name}". Run \`cytotune --help\`.`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    const e = err as Error & { kind?: string };
    io.err(`cytotune ${name}: ${e.message}`);
    if (!(err instanceof UsageError) && !e.kind) io.err(e.stack ?? '');
    return err instanceof UsageError ? 2 : 1;
  }
}
