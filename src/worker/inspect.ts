// A short-lived process that describes one checkpoint file and exits: main forks it for every
// model inspection, so a hostile or huge file costs this process (bounded heap, killed after a
// time limit), never the app's event loop. Replies once over IPC: a description or an error.
import { describeCheckpoint } from '../ml/models/describeCheckpoint';
import type { InspectReply } from '../shared/jobs';

const path = process.argv[2];
let reply: InspectReply;
try {
  const { family, config, parameterCount } = describeCheckpoint(path);
  reply = { ok: true, value: { family, config: { ...config }, parameterCount } };
} catch (err) {
  reply = { ok: false, message: (err as Error).message.split('\n')[0] };
}
process.send?.(reply, () => process.exit(0));
