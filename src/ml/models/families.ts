// The old import path of detection and of the list of family names. Kept only because
// src/main/jobs/modelRegistry.ts, src/worker/jobs/trainJob.ts and src/cli/commands/{train,embed}.ts
// (other owners) still import it; new code imports registry.ts. No tfjs (src/main loads this).
// Note FAMILIES here is the list of names (registry.ts: FAMILY_NAMES), not the definitions.
export { detectFamily, FAMILY_NAMES as FAMILIES } from './registry';
