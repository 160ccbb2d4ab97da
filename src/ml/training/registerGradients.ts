// Side-effect module: training code imports it so tfjs-core's gradient functions are registered
// before any tf.variableGrads (tfjs-core alone registers none; see backend/gradients.ts).
import { ensureGradients } from '../backend/gradients';

await ensureGradients();
