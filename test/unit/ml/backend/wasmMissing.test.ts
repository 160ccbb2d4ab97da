// When the .wasm binaries cannot be found (e.g. a broken install), selection falls back to cpu
// and says why wasm was not chosen.
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/ml/backend/selectBackend';

describe('selectBackend without wasm binaries', () => {
  it('falls back to cpu with the wasm failure as the reason', async () => {
    const c = await selectBackend({ wasmDir: '/nonexistent/tfjs-wasm/' });
    expect(c.backend).toBe('cpu');
    const wasm = c.attempts.find((a) => a.candidate === 'wasm')!;
    expect(wasm.ok).toBe(false);
    expect(wasm.reason).toMatch(/tfjs-backend-wasm\*\.wasm\) are not in \/nonexistent\/tfjs-wasm/);
  });
});
