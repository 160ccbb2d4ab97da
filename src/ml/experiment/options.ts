// What an experiment is: the grid axes (models, methods, shots, percentages, seeds, learning
// rates), the protocol that every cell shares (recorded in experiment.json; a rerun with another
// protocol is refused), and the parsing of the command-line values (lists, budgets, ratios).

export class OptionError extends Error {}

/** "1,2,4" -> [1, 2, 4]; checks each value with `ok`. */
export function parseNumberList(s: string, name: string, ok: (n: number) => boolean, what: string): number[] {
  const parts = s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new OptionError(`--${name} needs at least one value`);
  const values = parts.map((p) => {
    const n = Number(p);
    if (!Number.isFinite(n) || !ok(n)) throw new OptionError(`--${name}: "${p}" is not ${what}`);
    return n;
  });
  return [...new Set(values)];
}

/** "2h", "90m", "1h30m", "45s", "3600" (seconds) -> seconds. */
export function parseBudget(s: string): number {
  const t = s.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const m = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(t);
  if (!m || t === '' || (!m[1] && !m[2] && !m[3]))
    throw new OptionError(`--budget: "${s}" is not a duration; use e.g. 2h, 90m, 1h30m, 45s or seconds`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** "70,10,20" -> [0.7, 0.1, 0.2] (any positive scale; test and train must be > 0). */
export function parseSplit(s: string): [number, number, number] {
  const v = s.split(',').map((p) => Number(p.trim()));
  if (v.length !== 3 || v.some((x) => !Number.isFinite(x) || x < 0) || v[0] <= 0 || v[2] <= 0) {
    throw new OptionError(`--split: expected three ratios train,val,test such as 70,10,20, got "${s}"`);
  }
  return v as [number, number, number];
}

/** "NAME=FILE" or "FILE" -> label and path. Labels default to the file name without extension,
 * or the folder name for generic names (model.safetensors, pytorch_model.bin, ...). */
export function parseCheckpointArg(arg: string): { label: string | null; path: string } {
  const eq = arg.indexOf('=');
  if (eq > 0 && !arg.slice(0, eq).includes('/')) return { label: arg.slice(0, eq), path: arg.slice(eq + 1) };
  return { label: null, path: arg };
}

const GENERIC = /^(model|pytorch_model|open_clip_pytorch_model|open_clip_model|weights|checkpoint)$/i;

export function defaultLabel(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  const file = parts[parts.length - 1] ?? 'model';
  const stem = file.replace(/\.(safetensors|bin|pt|pth|ckpt)$/i, '');
  return GENERIC.test(stem) && parts.length > 1 ? parts[parts.length - 2] : stem;
}

/** Unique labels: explicit ones as given, defaults suffixed -2, -3 on collision. */
export function labelCheckpoints(args: { label: string | null; path: string }[]): { label: string; path: string }[] {
  const used = new Set<string>();
  return args.map((a) => {
    if (a.label !== null) {
      if (!/^[\w.+-]+$/.test(a.label)) throw new OptionError(`--checkpoint ${a.label}=...: names may use letters, digits and . _ + - only`);
      if (used.has(a.label)) throw new OptionError(`--checkpoint: the name "${a.label}" is used twice`);
      used.add(a.label);
      return { label: a.label, path: a.path };
    }
    const base = defaultLabel(a.path).replace(/[^\w.+-]/g, '_');
    let label = base;
    for (let i = 2; used.has(label); i++) label = `${base}-${i}`;
    used.add(label);
    return { label, path: a.path };
  });
}

/** Short form of a learning rate for tables and keys: 0.001 -> "1e-3", 0.0003 -> "3e-4". */
export function formatLr(lr: number): string {
  const [m, e] = lr.toExponential().split('e');
  return `${Number(m)}e${Number(e)}`;
}
