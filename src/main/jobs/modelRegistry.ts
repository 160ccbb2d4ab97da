// Foundation models brought in as checkpoint files: read the tensor names and shapes (no
// weights) in a child process, detect family and size, hash the file, and say plainly why a
// file is refused.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { ApiError } from '../../shared/api';
import type { ModelInspection } from '../../shared/domain';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { InspectReply } from '../../shared/jobs';
import { repoRoot } from '../paths';

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** How long and how much heap one inspection may take before it is stopped. */
const INSPECT_TIMEOUT_MS = 20_000;
const INSPECT_HEAP_MB = 1024;

/** Runs src/worker/inspect.ts in a child process: the file's content never runs on this event loop. */
function describeInChild(path: string): Promise<InspectReply> {
  return new Promise((resolveReply) => {
    const child = fork(join(repoRoot, 'src/worker/inspect.ts'), [path], {
      execArgv: ['--import', 'tsx', `--max-old-space-size=${INSPECT_HEAP_MB}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (t: string) => (stderr = (stderr + t).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), INSPECT_TIMEOUT_MS);
    let settled = false;
    const settle = (r: InspectReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolveReply(r);
    };
    child.once('message', (m) => settle(m as InspectReply));
    child.once('error', (err) => settle({ ok: false, message: `could not start the inspection: ${err.message}` }));
    child.once('exit', (code, signal) => {
      if (signal === 'SIGKILL')
        settle({
          ok: false,
          message: `reading it took longer than ${INSPECT_TIMEOUT_MS / 1000} s; it is not a checkpoint CytoTune can use`,
        });
      else if (/heap out of memory/i.test(stderr))
        settle({ ok: false, message: `reading it needed more than ${INSPECT_HEAP_MB} MB; it is not a checkpoint CytoTune can use` });
      else settle({ ok: false, message: `the inspection ended without an answer (code ${code})` });
    });
  });
}

export async function inspectModel(path: string): Promise<ModelInspection> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new ApiError('not-found', `No file at ${path}.`);
  }
  if (!info.isFile()) throw new ApiError('invalid-input', `${path} is not a file.`);
  const reply = await describeInChild(path);
  if (!reply.ok) throw new ApiError('invalid-input', reply.message.startsWith(path) ? reply.message : `${path}: ${reply.message}`);
  const { family, config, parameterCount } = reply.value;
  return { path, sha256: await sha256(path), sizeBytes: info.size, family, config, parameterCount };
}
