// Long-lived benchmark processes driven line by line over stdin/stdout, so engines that are
// compared can be timed in alternation (A B B A ...): on a shared machine, other people's jobs
// then slow both sides alike instead of whichever ran during the busy minute.
// Protocol: the server prints one JSON line when loaded ({"ready": true, ...}), answers
// "run <batch>" with {"seconds": s, "first": [...]} and "quit" with {"maxRssMb": m} before exiting.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';

export interface RunReply {
  seconds: number;
  /** Output row of the first image (batch 1 only), to compare engines. */
  first?: number[];
}

export class BenchServer {
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | null = null;
  private stderr = '';
  private readonly rl: Interface;
  ready: Record<string, unknown> = {};

  private constructor(
    readonly label: string,
    private readonly proc: ChildProcessWithoutNullStreams,
  ) {
    this.rl = createInterface({ input: proc.stdout });
    this.rl.on('line', (line) => {
      if (!line.startsWith('{')) return; // library chatter
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(line);
      } else this.lines.push(line);
    });
    proc.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
  }

  static async start(label: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<BenchServer> {
    const s = new BenchServer(label, spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] }));
    s.ready = await s.next();
    return s;
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`${this.label} exited (${code}): ${this.stderr.split('\n').filter(Boolean).slice(-3).join(' | ')}`));
      this.proc.once('exit', onExit);
      const take = (line: string) => {
        this.proc.off('exit', onExit);
        resolve(JSON.parse(line));
      };
      const queued = this.lines.shift();
      if (queued) take(queued);
      else this.waiting = take;
    });
  }

  async run(batch: number): Promise<RunReply> {
    this.proc.stdin.write(`run ${batch}\n`);
    return (await this.next()) as unknown as RunReply;
  }

  async quit(): Promise<Record<string, unknown> & { maxRssMb: number }> {
    this.proc.stdin.write('quit\n');
    const r = (await this.next()) as Record<string, unknown> & { maxRssMb: number };
    this.rl.close();
    return r;
  }
}

/** Serves a Node engine: `serveLines(run)` answers the protocol for `run(batch)`. */
export async function serveLines(ready: Record<string, unknown>, run: (batch: number) => Promise<RunReply>): Promise<void> {
  console.log(JSON.stringify({ ready: true, ...ready }));
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    const [cmd, arg] = line.trim().split(/\s+/);
    if (cmd === 'run') console.log(JSON.stringify(await run(Number(arg))));
    else if (cmd === 'quit') break;
  }
  console.log(JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024 }));
  rl.close();
}
