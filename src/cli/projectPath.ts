// `--project lab` and `--project lab.cytotune` name the same file, as in the workstation.
import { resolve } from 'node:path';

export function projectPath(raw: string): string {
  return resolve(raw.endsWith('.cytotune') ? raw : `${raw}.cytotune`);
}
