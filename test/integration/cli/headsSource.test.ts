// Which attention head count a command used, and why (checkpoints do not record it): `embed`
// says it on stderr and in its JSON, `train` in its output, config.json and model-card.md, for
// each source (--heads, config.json or open_clip_config.json beside the file, the width/64 guess).
// Also: `experiment --activation` reaches the grid's options.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runEmbed } from '../../../src/cli/commands/embed';
import { parseExperimentArgs } from '../../../src/cli/commands/experiment';
import { runTrain } from '../../../src/cli/commands/train';
import { capture, herlevFolder } from '../../support/experimentFixtures';
import { repoRoot, tempDir } from '../../support/paths';
import { useBackend } from '../../support/tfBackend';
import { writeTinyCheckpoint } from '../../support/tinyModel';

const fixture = (f: string) => join(repoRoot, 'test/fixtures/ml', f);
let dir: string;
let data: string;

beforeAll(async () => {
  await useBackend('wasm');
  dir = tempDir('cytotune-heads-');
  data = herlevFolder(join(dir, 'data'), { a: 'normal_superficiel', b: 'severe_dysplastic' }, 2);
});

/** The hf-clip parity fixture (width 16, 2 heads) in a folder with `files` beside it. */
function withConfig(name: string, files: Record<string, unknown>): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  copyFileSync(fixture('hf-clip.safetensors'), join(d, 'model.safetensors'));
  for (const [f, v] of Object.entries(files)) writeFileSync(join(d, f), JSON.stringify(v));
  return join(d, 'model.safetensors');
}

async function embed(ckpt: string, extra: string[] = []) {
  const c = capture();
  const code = await runEmbed(
    ['--checkpoint', ckpt, '--engine', 'tfjs', '--backend', 'wasm', '--tensor', fixture('input.npy'), ...extra],
    c.io,
  );
  expect(code, c.err.join('\n')).toBe(0);
  return { doc: JSON.parse(c.out.join('')), err: c.err };
}

describe('the head count and its source', () => {
  it('embed: config.json beside the checkpoint, then --heads over it', async () => {
    const ckpt = withConfig('hf', { 'config.json': { vision_config: { num_attention_heads: 2, hidden_size: 16 } } });
    const a = await embed(ckpt);
    expect(a.doc).toMatchObject({ heads: 2, headsSource: 'config.json' });
    expect(a.err).toEqual(['embed: 2 attention heads, read from config.json beside the checkpoint (num_attention_heads)']);
    const b = await embed(ckpt, ['--heads', '4']);
    expect(b.doc).toMatchObject({ heads: 4, headsSource: 'option' });
  });

  it('embed and train: open_clip_config.json (width / head_width)', async () => {
    const ckpt = withConfig('oc', { 'open_clip_config.json': { model_cfg: { vision_cfg: { width: 16, head_width: 8 } } } });
    expect((await embed(ckpt)).err[0]).toMatch(/2 attention heads, read from open_clip_config.json/);
    const run = join(dir, 'run-oc');
    const c = capture();
    expect(
      await runTrain(['--data', data, '--checkpoint', ckpt, '--method', 'linear', '--steps', '0', '--backend', 'wasm', '--out', run], c.io),
    ).toBe(0);
    expect(c.out).toContainEqual(
      expect.stringMatching(/^model: hf-clip, width 16, 2 blocks; 2 attention heads, read from open_clip_config.json/),
    );
    const cfg = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(cfg.heads).toMatchObject({ value: 2, source: 'open_clip_config.json' });
    expect(cfg.encoder.headsSource).toBe('open_clip_config.json');
    expect(readFileSync(join(run, 'model-card.md'), 'utf8')).toMatch(/- heads: 2 attention heads, read from open_clip_config.json/);
  });

  it('train: the width/64 guess is named as a guess, with what to do when it is wrong', async () => {
    const ckpt = writeTinyCheckpoint(dir);
    const run = join(dir, 'run-guess');
    const c = capture();
    expect(
      await runTrain(['--data', data, '--checkpoint', ckpt, '--method', 'linear', '--steps', '0', '--backend', 'wasm', '--out', run], c.io),
    ).toBe(0);
    const card = readFileSync(join(run, 'model-card.md'), 'utf8');
    expect(card).toMatch(
      /1 attention heads, guessed as width 64 \/ 64: no --heads and no config.json or open_clip_config.json beside the checkpoint/,
    );
    expect(card).toMatch(/pass --heads N/);
  });

  it('experiment --activation reaches the grid options (and is checked)', () => {
    const o = parseExperimentArgs(['--data', data, '--checkpoint', 'm.safetensors', '--out', join(dir, 'e'), '--activation', 'gelu']);
    expect(o).toMatchObject({ activation: 'gelu' });
    expect(() => parseExperimentArgs(['--data', data, '--checkpoint', 'm.safetensors', '--out', 'e', '--activation', 'relu'])).toThrow(
      /--activation must be gelu or quick_gelu/,
    );
  });
});
