// State that outlives a screen change and a reload (filters, overlay choices): kept in the
// browser's localStorage under a key, per project where the key says so.
import { useCallback, useState } from 'react';

export function usePersistentState<T extends object>(key: string, initial: T): [T, (next: T) => void] {
  const [value, setValue] = useState<T>(() => {
    try {
      const stored = window.localStorage.getItem(key);
      return stored === null ? initial : { ...initial, ...(JSON.parse(stored) as T) };
    } catch {
      return initial;
    }
  });
  const set = useCallback(
    (next: T) => {
      setValue(next);
      try {
        window.localStorage.setItem(key, JSON.stringify(next));
      } catch {
        // Storage full or disabled: the state still holds for this session.
      }
    },
    [key],
  );
  return [value, set];
}
