// One cell in a grid: its cell-centred thumbnail, the label or class it carries as a coloured
// frame and badge, a caption (size, score); the focused one is outlined for the keyboard.
import type { ReactNode } from 'react';
import { cellUrl } from './cellUrl';

interface Props {
  index: number;
  cellId: number;
  testId: string;
  focused: boolean;
  /** Frame colour: the class of the cell's label, or null while it has none. */
  color: string | null;
  badge: ReactNode;
  caption: ReactNode;
  title: string;
  onClick: () => void;
  onDoubleClick?: () => void;
}

export function CellThumb({ index, cellId, testId, focused, color, badge, caption, title, onClick, onDoubleClick }: Props) {
  return (
    <button
      className={`cell-thumb ${focused ? 'focused' : ''}`}
      data-index={index}
      data-testid={testId}
      data-labelled={color ? 'yes' : 'no'}
      aria-pressed={focused}
      title={title}
      style={color ? { borderColor: color } : undefined}
      onClick={onClick}
      onDoubleClick={onDoubleClick}
    >
      <img src={cellUrl(cellId)} alt="" loading="lazy" draggable={false} />
      {badge && (
        <span className="cell-badge" style={color ? { background: color } : undefined}>
          {badge}
        </span>
      )}
      <span className="cell-caption">{caption}</span>
    </button>
  );
}
