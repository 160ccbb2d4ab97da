// Head files: the linear head (torch layout, head.weight [C, D], head.bias [C]) with the same
// base-model metadata as adapters, so a head is refused on a base it was not trained on.
import { baseMetadata, checkSameBase, parseBaseMetadata, AdapterError, type AdapterMetadata, type BaseModelInfo } from './adapterFile';
import { readWeightsFile, writeWeightsFile } from './safetensorsIo';
import { LinearHead } from './linearHead';

export const HEAD_FORMAT = 'cytotune-linear-head/1';

export async function saveHead(path: string, head: LinearHead, meta: AdapterMetadata): Promise<void> {
  if (meta.classNames.length !== head.numClasses)
    throw new Error(`head has ${head.numClasses} classes but ${meta.classNames.length} class names were given`);
  await writeWeightsFile(path, head.toHostTensors(), { format: HEAD_FORMAT, ...baseMetadata(meta) });
}

export async function loadHead(
  path: string,
  base: BaseModelInfo & { outputDim: number },
): Promise<{ head: LinearHead; meta: AdapterMetadata }> {
  const { tensors, metadata } = await readWeightsFile(path);
  if (metadata.format !== HEAD_FORMAT)
    throw new AdapterError('adapter-invalid', `${path}: not a CytoTune head file (format "${metadata.format ?? 'none'}")`);
  const meta = parseBaseMetadata(path, metadata);
  checkSameBase(path, meta, base);
  const w = tensors.get('head.weight');
  if (!w || w.shape[1] !== base.outputDim || w.shape[0] !== meta.classNames.length) {
    throw new AdapterError(
      'adapter-invalid',
      `${path}: head.weight should be [${meta.classNames.length}, ${base.outputDim}], got [${w?.shape ?? 'missing'}]`,
    );
  }
  return { head: LinearHead.fromHostTensors(tensors), meta };
}
