// Model inspection of files from outside: each hostile checkpoint gives a one-line error within
// 5 s, and the server keeps answering while one is being read (it is read in a child process).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/shared/api';
import { allHostileFiles, opcodeFlood } from '../../support/hostileCheckpoints/hostileFiles';
import { OP } from '../../support/hostileCheckpoints/pickleWriter';
import { overHttp, type Harness } from '../../support/servers';
import { tempDir } from '../../support/paths';

describe('models:inspect on hostile checkpoints (browser-mode server)', () => {
  let h: Harness;
  const dir = tempDir();
  beforeAll(async () => {
    h = await overHttp(join(dir, 'p.cytotune'));
    await h.ready();
  });
  afterAll(() => h.close());

  it('refuses each hostile file with a one-line error within 5 s', async () => {
    for (const file of allHostileFiles()) {
      const path = join(dir, file.name);
      writeFileSync(path, file.bytes);
      const t0 = performance.now();
      const err = await h.client.call('models:inspect', { path }).catch((e: unknown) => e);
      const seconds = (performance.now() - t0) / 1000;
      expect(err, file.name).toBeInstanceOf(ApiError);
      expect((err as ApiError).message, file.name).not.toMatch(/\n/);
      expect(seconds, file.name).toBeLessThan(5);
    }
  });

  it('answers other requests while a slow file is being read', async () => {
    // Ten million cheap opcodes (push and pop an empty list): within the budgets, and ~0.5 s of parsing.
    const slow = opcodeFlood('slow.bin', [OP.EMPTY_LIST, OP.POP], 4_900_000);
    const path = join(dir, slow.name);
    writeFileSync(path, slow.bytes);
    const order: string[] = [];
    const inspecting = h.client.call('models:inspect', { path }).then(
      () => order.push('inspect'),
      () => order.push('inspect'),
    );
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    await h.client.call('project:current', {});
    const pingMs = performance.now() - t0;
    order.push('ping');
    await inspecting;
    expect(order).toEqual(['ping', 'inspect']);
    expect(pingMs).toBeLessThan(1000);
  });
});
