// What the machine offers for the CUDA backend (@tensorflow/tfjs-node-gpu 4.x needs CUDA 11.2 and
// cuDNN 8.1): the GPUs nvidia-smi reports and whether the CUDA 11 / cuDNN 8 libraries are on the
// loader path. Every probe is time-limited and failure-tolerant (no driver is the common case).
import { spawnSync } from 'node:child_process';

export interface GpuProbe {
  gpus: string[];
  /** null when nvidia-smi is absent. */
  driver: string | null;
  cudart11: boolean;
  cudnn8: boolean;
  notes: string[];
}

export const CUDA_REQUIREMENT = 'CUDA 11.2 and cuDNN 8.1 (what @tensorflow/tfjs-node-gpu 4.22 is built against)';

function run(cmd: string, args: string[]): string | null {
  try {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
    return r.status === 0 ? r.stdout : null;
  } catch {
    return null;
  }
}

export function probeGpu(): GpuProbe {
  const notes: string[] = [];
  const smi = run('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader']);
  const lines = smi ? smi.trim().split('\n').filter(Boolean) : [];
  const gpus = lines.map((l) =>
    l
      .split(',')
      .slice(0, 2)
      .map((s) => s.trim())
      .join(', '),
  );
  const driver = lines.length ? (lines[0].split(',')[2]?.trim() ?? null) : null;
  if (!smi) notes.push('nvidia-smi not found or failed: no NVIDIA driver visible');
  const ld = run('ldconfig', ['-p']) ?? run('/sbin/ldconfig', ['-p']) ?? '';
  const libPath = process.env.LD_LIBRARY_PATH ?? '';
  const has = (lib: string) => ld.includes(lib) || libPath.split(':').some((d) => d && run('ls', [`${d}/${lib}`]) !== null);
  return { gpus, driver, cudart11: has('libcudart.so.11.0'), cudnn8: has('libcudnn.so.8'), notes };
}
