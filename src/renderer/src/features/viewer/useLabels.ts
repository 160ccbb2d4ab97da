// The labels of one image and every labelling action on them; each action is committed at
// once (one API call, one transaction) and the list reloads from the database after undo/redo.
import { useCallback, useEffect, useState } from 'react';
import type { Annotation } from '@shared/domain';
import type { Box } from '@shared/image';
import { client } from '../../api/client';

export function useLabels(imageId: number, onChanged: () => void) {
  const [labels, setLabels] = useState<Annotation[]>([]);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    setLabels(await client.call('annotations:list', { imageId }));
  }, [imageId]);

  useEffect(() => {
    setLabels([]);
    reload().catch((e: Error) => setError(e.message));
  }, [reload]);

  const run = useCallback(
    async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
      try {
        const out = await fn();
        setError(null);
        onChanged();
        return out;
      } catch (e) {
        setError((e as Error).message);
        return undefined;
      }
    },
    [onChanged],
  );

  return {
    labels,
    reload,
    error,
    clearError: () => setError(null),
    create: (classId: number, box: Box) =>
      run(async () => {
        const a = await client.call('annotations:create', { imageId, classId, box });
        setLabels((l) => [...l, a]);
        return a;
      }),
    update: (id: number, patch: { classId?: number; box?: Box }) =>
      run(async () => {
        const a = await client.call('annotations:update', { id, ...patch });
        setLabels((l) => l.map((x) => (x.id === id ? a : x)));
      }),
    remove: (id: number) =>
      run(async () => {
        await client.call('annotations:delete', { id });
        setLabels((l) => l.filter((x) => x.id !== id));
      }),
    undo: () => run(async () => (await client.call('annotations:undo', { imageId }), reload())),
    redo: () => run(async () => (await client.call('annotations:redo', { imageId }), reload())),
  };
}
