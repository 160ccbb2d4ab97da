// Esc closes the topmost dialog or menu wherever the focus is: every open one registers here,
// and only the last opened answers, so Esc in a picker over a sheet closes just the picker.
import { useEffect, useRef } from 'react';

const stack: { current: () => void }[] = [];

function onKey(e: KeyboardEvent) {
  if (e.key !== 'Escape' || stack.length === 0) return;
  e.preventDefault();
  e.stopImmediatePropagation();
  stack[stack.length - 1].current();
}

export function useEscape(onClose: () => void, active = true): void {
  const ref = useRef(onClose);
  ref.current = onClose;
  useEffect(() => {
    if (!active) return;
    const entry = { current: () => ref.current() };
    if (stack.length === 0) window.addEventListener('keydown', onKey, true);
    stack.push(entry);
    return () => {
      stack.splice(stack.indexOf(entry), 1);
      if (stack.length === 0) window.removeEventListener('keydown', onKey, true);
    };
  }, [active]);
}

/** True while a dialog or menu is open (other key handlers leave their keys alone then). */
export function dialogOpen(): boolean {
  return stack.length > 0;
}
