// The dispatcher: --help and --version import no command (each pulls in tfjs, sharp or SQLite);
// every command's --help is its own usage text, which lists exactly the options it parses.
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { COMMANDS, main } from '../../../src/cli/index';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err };
}

describe('cytotune', () => {
  it('--help lists every command with its summary, and --version the package version, loading no command', async () => {
    const loads = Object.values(COMMANDS).map((e) => vi.spyOn(e, 'load'));
    const help = capture();
    expect(await main(['--help'], help.io)).toBe(0);
    for (const [name, e] of Object.entries(COMMANDS)) expect(help.out.join('\n')).toContain(`  ${name.padEnd(10)}  ${e.summary}`);
    const version = capture();
    expect(await main(['--version'], version.io)).toBe(0);
    expect(version.out).toEqual([JSON.parse(readFileSync('package.json', 'utf8')).version]);
    expect(await main([], capture().io)).toBe(2);
    for (const l of loads) expect(l).not.toHaveBeenCalled();
    vi.restoreAllMocks();
    // No static import of a command either: the table's dynamic imports are the only way in.
    expect(readFileSync('src/cli/index.ts', 'utf8')).not.toMatch(/^import .*['"]\.\/commands\//m);
  });

  it('each command module matches its table entry, and its usage names exactly the options it parses', async () => {
    for (const [name, entry] of Object.entries(COMMANDS)) {
      const { command } = await entry.load();
      expect(command.name).toBe(name);
      expect(command.summary, name).toBe(entry.summary);
      expect(command.usage.startsWith(`usage: cytotune ${name}`), name).toBe(true);
      const synopsis = command.usage.split('\n')[0];
      const inUsage = new Set([...synopsis.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]));
      expect([...inUsage].sort(), name).toEqual(Object.keys(command.options).sort());
    }
  });

  it('`cytotune <command> --help` prints that usage (predict names --engine)', async () => {
    const c = capture();
    expect(await main(['predict', '--help'], c.io)).toBe(0);
    expect(c.out.join('\n')).toMatch(/^usage: cytotune predict .*\[--engine auto\|tfjs\|onnx\|onnx-int8\]/);
    const h = capture();
    expect(await main(['help', 'predict'], h.io)).toBe(0);
    expect(h.out).toEqual(c.out);
  });

  it('an unknown command or option exits 2 with one line', async () => {
    const u = capture();
    expect(await main(['frobnicate'], u.io)).toBe(2);
    expect(u.err).toEqual(['cytotune: unknown command "frobnicate". Run `cytotune --help`.']);
    const o = capture();
    expect(await main(['info', '--bogus'], o.io)).toBe(2);
    expect(o.err).toEqual(['info: unknown option --bogus (see `cytotune info --help`)']);
  });
});
