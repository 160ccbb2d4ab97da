// Labels on detected cells: which label (if any) sits on a cell, and labelling a cell as the
// patch of the project's patch size centred on it (so the label is what the model trains on,
// and what the cell classifier later sees). Undo goes through the project's per-image history.
import { useCallback, useState } from 'react';
import { boxAround } from '@shared/boxGeometry';
import type { CellRecord } from '@shared/cells';
import type { Annotation } from '@shared/domain';
import type { Box } from '@shared/image';
import { client } from '../../api/client';

/** A label belongs to a cell when its centre lies on the cell's nucleus (a few px of slack). */
export function labelOnCell(cell: Pick<CellRecord, 'x' | 'y' | 'box'>, labels: readonly Annotation[]): Annotation | undefined {
  const rx = Math.max(4, cell.box.w / 2);
  const ry = Math.max(4, cell.box.h / 2);
  return labels.find((a) => Math.abs(a.box.x + a.box.w / 2 - cell.x) <= rx && Math.abs(a.box.y + a.box.h / 2 - cell.y) <= ry);
}

/** The box a label on this cell gets: the project's patch, centred on the cell, inside the image. */
export function cellPatch(cell: { x: number; y: number }, patchSize: number, image: { width: number; height: number }): Box {
  return boxAround(cell, patchSize, image.width, image.height);
}

/** Labels of several images, kept in step with what the sorter does to them. */
export function useCellLabels(onChanged: () => void) {
  const [byImage, setByImage] = useState<Map<number, Annotation[]>>(new Map());
  const [history, setHistory] = useState<number[]>([]);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async (imageIds: number[]) => {
    const lists = await Promise.all(imageIds.map((imageId) => client.call('annotations:list', { imageId })));
    setByImage(new Map(imageIds.map((id, i) => [id, lists[i]])));
  }, []);
  const reloadImage = useCallback(async (imageId: number) => {
    const list = await client.call('annotations:list', { imageId });
    setByImage((m) => new Map(m).set(imageId, list));
  }, []);

  const act = useCallback(
    async (imageId: number, fn: () => Promise<unknown>) => {
      try {
        await fn();
        setError(null);
        setHistory((h) => [...h.slice(-199), imageId]);
        await reloadImage(imageId);
        onChanged();
      } catch (e) {
        setError((e as Error).message);
      }
    },
    [reloadImage, onChanged],
  );

  /** Labels the cell as `classId`: a new label, or the cell's label relabelled. */
  const label = useCallback(
    (cell: CellRecord, classId: number, patchSize: number, image: { width: number; height: number }) => {
      const existing = labelOnCell(cell, byImage.get(cell.imageId) ?? []);
      if (existing?.classId === classId) return Promise.resolve();
      return act(cell.imageId, () =>
        existing
          ? client.call('annotations:update', { id: existing.id, classId })
          : client.call('annotations:create', { imageId: cell.imageId, classId, box: cellPatch(cell, patchSize, image) }),
      );
    },
    [byImage, act],
  );
  const unlabel = useCallback(
    (cell: CellRecord) => {
      const existing = labelOnCell(cell, byImage.get(cell.imageId) ?? []);
      return existing ? act(cell.imageId, () => client.call('annotations:delete', { id: existing.id })) : Promise.resolve();
    },
    [byImage, act],
  );
  const undo = useCallback(async () => {
    const imageId = history[history.length - 1];
    if (imageId === undefined) return;
    setHistory((h) => h.slice(0, -1));
    try {
      await client.call('annotations:undo', { imageId });
      await reloadImage(imageId);
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    }
  }, [history, reloadImage, onChanged]);

  const labelOf = useCallback((cell: CellRecord) => labelOnCell(cell, byImage.get(cell.imageId) ?? []), [byImage]);
  return { load, labelOf, label, unlabel, undo, canUndo: history.length > 0, error, clearError: () => setError(null) };
}
