// tfjs-core on its own registers no gradient functions (the @tensorflow/tfjs union package does
// that), and LoRA training needs them. They ship only as tfjs-core's ESM sources
// (dist/register_all_gradients.js), whose extensionless imports and `./gradients` file-vs-folder
// clash Node's ESM loader (and tsx) refuse. Bundlers (Vite, vitest) load it as is; under plain
// Node we add a narrow resolve/load hook for files inside tfjs-core's dist/ only, then import it.
// Registries and the engine live on globalThis in tfjs, so the gradients reach the same engine.
import { register } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

const HOOK = `
const DIST = '/@tensorflow/tfjs-core/dist/';
const inDist = (u) => typeof u === 'string' && u.includes(DIST) && !/(tf-core(\\.node|\\.fesm|\\.es2017)?(\\.min)?\\.js|index\\.js)$/.test(u);
export async function resolve(spec, ctx, next) {
  try {
    return await next(spec, ctx);
  } catch (e) {
    const code = e && e.code;
    if (spec.startsWith('.') && inDist(ctx.parentURL) && (code === 'ERR_UNSUPPORTED_DIR_IMPORT' || code === 'ERR_MODULE_NOT_FOUND')) {
      return next(spec + '.js', ctx);
    }
    throw e;
  }
}
export async function load(url, ctx, next) {
  if (inDist(url) && url.endsWith('.js')) return next(url, { ...ctx, format: 'module' });
  return next(url, ctx);
}
`;

let done: Promise<void> | null = null;

/** Registers all of tfjs-core's gradients once; idempotent. */
export function ensureGradients(): Promise<void> {
  done ??= (async () => {
    if (tf.getGradient('BatchMatMul') && tf.getGradient('Erf')) return;
    // Under Vite/vitest the module is transformed and loads as is. Under Node the hook must be in
    // place before the first attempt: a failed ESM link is cached and would fail again.
    if (!('__vitest_worker__' in globalThis)) {
      try {
        register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
      } catch {
        // No module hooks here (bundled build): the bundler already resolved the import below.
      }
    }
    await import('@tensorflow/tfjs-core/dist/register_all_gradients');
    if (!tf.getGradient('BatchMatMul')) throw new Error('tfjs gradients could not be registered');
  })();
  return done;
}
