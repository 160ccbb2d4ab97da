// A dialog over the screen: a click on the backdrop or Esc (wherever the focus is) closes it,
// and it takes the focus when it opens so keys typed next go to it.
import { useEffect, useRef, type ReactNode } from 'react';
import { useEscape } from './useEscape';

export function Modal({
  title,
  onClose,
  children,
  actions,
  wide,
  testId,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  actions?: ReactNode;
  wide?: boolean;
  testId?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEscape(onClose);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={ref} className={`modal ${wide ? 'wide' : ''}`} role="dialog" aria-label={title} tabIndex={-1} data-testid={testId}>
        <div className="modal-head">
          <div className="modal-title">{title}</div>
          <button className="icon" onClick={onClose} aria-label="Close" title="Close (Esc)">
            ×
          </button>
        </div>
        {children}
        {actions && <div className="modal-actions">{actions}</div>}
      </div>
    </div>
  );
}
