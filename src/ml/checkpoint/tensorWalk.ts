// Finds the tensors in an unpickled torch object graph and names them by their dotted path.
// The graph is a DAG or even cyclic (the pickle memo lets any container appear under many
// parents, or inside itself), so every walk keeps a visited set: each container is entered once,
// which makes the walk linear in the graph (a 40-level DAG of shared dicts used to take 2^40
// steps). Tensors themselves are leaves and may appear under several names (tied weights).
import type { Budget } from './limits';
import { isTensorRef, PyDict, PyObject, type TensorRef } from './pyValues';

/** Dict keys under which training scripts nest the weights ({"state_dict": ...}, {"model": ...}). */
const WRAPPER_KEYS = ['state_dict', 'model', 'model_state_dict', 'module', 'state_dict_ema', 'model_ema', 'teacher', 'net', 'network'];

/** How deep `hasTensors` looks below a wrapper key before deciding it holds no weights. */
const PROBE_DEPTH = 6;

/** Time is polled every this many containers entered. */
const CHECK_EVERY = 4096;

function isWalkedArray(v: unknown): v is unknown[] {
  // Lists are walked only when they hold tensors or modules directly (nn.ModuleList, tensor lists),
  // not lists of numbers or strings, whose indices would make meaningless names.
  return Array.isArray(v) && v.some((x) => isTensorRef(x) || x instanceof PyObject);
}

function hasTensors(v: unknown, seen: Set<unknown>, depth: number): boolean {
  if (isTensorRef(v)) return true;
  if (depth > PROBE_DEPTH || typeof v !== 'object' || v === null || seen.has(v)) return false;
  seen.add(v);
  if (v instanceof Map) for (const x of v.values()) if (hasTensors(x, seen, depth + 1)) return true;
  if (v instanceof PyObject) return hasTensors(v.state, seen, depth + 1);
  return false;
}

/** Descends through {"state_dict": {...}}-style wrappers, at most three deep. */
export function unwrap(root: unknown): unknown {
  for (let i = 0; i < 3; i++) {
    const dict = root;
    if (!(dict instanceof PyDict)) break;
    const key = WRAPPER_KEYS.find((k) => hasTensors(dict.get(k), new Set(), 0));
    if (!key) break;
    root = dict.get(key);
  }
  return root;
}

/**
 * Every tensor under `root`, by dotted name (dict keys, module attributes, list indices). A tensor
 * reached by several paths keeps each name; a container reached by several paths is named by the
 * first one only. Names deeper than maxDepth or longer than maxNameLength are skipped: no
 * state-dict or module name is like that, so such parts hold no weights a model can load.
 */
export function flatten(root: unknown, budget: Budget): Map<string, TensorRef> {
  const { maxDepth, maxNameLength, maxTensors } = budget.limits;
  const out = new Map<string, TensorRef>();
  const seen = new Set<unknown>();
  const visit = (v: unknown, name: string, depth: number): void => {
    if (isTensorRef(v)) {
      if (!out.has(name)) {
        if (out.size >= maxTensors) throw budget.exceeded(`names more than ${maxTensors.toLocaleString('en')} tensors`);
        out.set(name, v);
      }
      return;
    }
    if (depth >= maxDepth || typeof v !== 'object' || v === null || seen.has(v)) return;
    if (!(v instanceof Map || v instanceof PyObject || isWalkedArray(v))) return;
    seen.add(v);
    if (seen.size % CHECK_EVERY === 0) budget.checkTime('naming the tensors');
    const child = (k: string | number, x: unknown) => {
      const key = String(k);
      if (name.length + key.length + 1 > maxNameLength) return;
      visit(x, name ? `${name}.${key}` : key, depth + 1);
    };
    if (v instanceof Map) {
      for (const [k, x] of v) if (typeof k === 'string' || typeof k === 'number') child(k, x);
    } else if (v instanceof PyObject) {
      visit(v.state, name, depth + 1);
    } else {
      v.forEach((x, i) => child(i, x));
    }
  };
  visit(root, '', 0);
  return out;
}
