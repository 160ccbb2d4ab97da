// A project ready to train: two Herlev classes copied into `dir`/data (the first `perClass`
// images of each, sorted), imported, and the tiny model added.
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiClient } from '../../src/shared/api';
import { herlevDir } from './paths';
import { writeTinyCheckpoint } from './tinyModel';

export const TWO_CLASSES = ['normal_superficiel', 'severe_dysplastic'];

export async function twoClassProject(
  client: ApiClient,
  dir: string,
  name: string,
  perClass = 8,
): Promise<{ classIds: number[]; modelId: number; data: string }> {
  await client.call('project:create', { path: join(dir, name) });
  const data = join(dir, 'data');
  for (const cls of TWO_CLASSES) {
    for (const f of readdirSync(join(herlevDir, cls)).sort().slice(0, perClass)) cpSync(join(herlevDir, cls, f), join(data, cls, f));
  }
  await client.call('import:run', { paths: [data] });
  const classIds = (await client.call('classes:list', {})).map((c) => c.id);
  const modelId = (await client.call('models:add', { path: writeTinyCheckpoint(dir) })).id;
  return { classIds, modelId, data };
}
