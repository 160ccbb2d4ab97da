// `cytotune worker --lab URL`: this machine (the GPU one) runs a lab's jobs.
import { startLabWorker } from '../../main/lab/labWorker';
import { installProcessGuard } from '../../main/server/processGuard';
import { UsageError } from '../args';
import { defineCommand } from '../command';

export const command = defineCommand({
  name: 'worker',
  summary: "run a lab's train, classify and detect jobs on this machine",
  usage:
    'usage: cytotune worker --lab URL [--name NAME] [--slides DIR]\n' +
    'Takes jobs from the lab (a PostgreSQL connection string; CYTOTUNE_LAB is the default) one at a time\n' +
    'and runs them here; a job whose worker stops is retried by another from its last checkpoint.\n' +
    "--slides is where this machine mounts the lab's slide root, when not at the same path.",
  options: { lab: { type: 'string' }, name: { type: 'string' }, slides: { type: 'string' } },
  async main({ values: v }, io) {
    const url = v.lab ?? process.env.CYTOTUNE_LAB;
    if (!url) throw new UsageError('--lab URL is required (or set CYTOTUNE_LAB)');
    installProcessGuard((line) => io.err(line));
    const worker = await startLabWorker({ url, name: v.name, slides: v.slides, log: (line) => io.out(line) });
    const stop = async () => {
      await worker.stop();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await new Promise(() => {}); // work until stopped
    return 0;
  },
});
