// Arrow-key moves in a grid of thumbnails laid out in rows of `columns`, and the column count a
// grid shows at its current width (so ↑ and ↓ move by one row whatever the window size).
import { useEffect, useState, type RefObject } from 'react';
import { dialogOpen } from '../../components/useEscape';
import { findShortcut, typingInto, type ShortcutId } from '../shortcuts/keymap';

export function gridStep(key: string, index: number, count: number, columns: number): number | null {
  if (count === 0) return null;
  const clamp = (i: number) => Math.max(0, Math.min(count - 1, i));
  switch (key) {
    case 'ArrowRight':
      return clamp(index + 1);
    case 'ArrowLeft':
      return clamp(index - 1);
    case 'ArrowDown':
      return clamp(index + columns);
    case 'ArrowUp':
      return clamp(index - columns);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}

/** Columns of a CSS grid (from its computed template), updated when it resizes. */
export function useGridColumns(ref: RefObject<HTMLElement | null>): number {
  const [columns, setColumns] = useState(1);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setColumns(Math.max(1, getComputedStyle(el).gridTemplateColumns.split(' ').filter(Boolean).length));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return columns;
}

/** The cell grids' shortcut (shortcuts/keymap.ts) a key press triggers, unless a field or a dialog has the keys. */
export function gridShortcut(e: KeyboardEvent): ShortcutId | null {
  if (typingInto(e.target) || dialogOpen()) return null;
  return findShortcut(e, ['Cell grids'])?.id ?? null;
}
