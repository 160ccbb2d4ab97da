import { useState } from 'react';
import type { ClassNode } from '@shared/domain';
import { client } from '../../api/client';

const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];

interface Props {
  node: ClassNode;
  depth: number;
  /** The names from the root down to this class, for the tooltip. */
  path: string;
  all: ClassNode[];
  act: (fn: () => Promise<unknown>) => Promise<void>;
}

export function ClassRow({ node, depth, path, all, act }: Props) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(node.name);
  const update = (patch: { name?: string; color?: string; shortcut?: string | null; parentId?: number | null }) =>
    act(() => client.call('classes:update', { id: node.id, ...patch }));

  return (
    <li className="class-row" data-testid={`class-${node.name}`} style={{ paddingLeft: 4 + depth * 14 }}>
      <input
        type="color"
        className="swatch"
        aria-label={`Colour of ${node.name}`}
        value={node.color}
        onChange={(e) => update({ color: e.target.value })}
      />
      {editing ? (
        <input
          className="rename"
          autoFocus
          value={name}
          onChange={(e) => setName(e.target.value)}
          onBlur={() => setEditing(false)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') void update({ name }).then(() => setEditing(false));
            if (e.key === 'Escape') setEditing(false);
          }}
        />
      ) : (
        <span className="class-name" title={`${path}\n(double-click to rename)`} onDoubleClick={() => setEditing(true)}>
          {node.name}
        </span>
      )}
      <span
        className="count"
        data-testid={`count-${node.name}`}
        title={
          node.children.length
            ? `${node.totalCount} labels with its subclasses (${node.labelCount} of its own)`
            : `${node.labelCount} labels`
        }
      >
        {node.totalCount}
      </span>
      <select
        aria-label={`Key for ${node.name}`}
        value={node.shortcut ?? ''}
        onChange={(e) => update({ shortcut: e.target.value || null })}
      >
        <option value="">key</option>
        {keys.map((k) => (
          <option key={k} value={k}>
            {k}
          </option>
        ))}
      </select>
      <select
        aria-label={`Parent of ${node.name}`}
        data-testid={`parent-${node.name}`}
        value={node.parentId ?? ''}
        onChange={(e) => update({ parentId: e.target.value ? Number(e.target.value) : null })}
      >
        <option value="">(top)</option>
        {all
          .filter((c) => c.id !== node.id)
          .map((c) => (
            <option key={c.id} value={c.id}>
              in {c.name}
            </option>
          ))}
      </select>
      <span className="row-actions">
        <button
          className="icon"
          aria-label={`Move ${node.name} up`}
          onClick={() => act(() => client.call('classes:move', { id: node.id, direction: 'up' }))}
        >
          ↑
        </button>
        <button
          className="icon"
          aria-label={`Move ${node.name} down`}
          onClick={() => act(() => client.call('classes:move', { id: node.id, direction: 'down' }))}
        >
          ↓
        </button>
        <button
          className="icon"
          aria-label={`Delete ${node.name}`}
          onClick={() => act(() => client.call('classes:delete', { id: node.id }))}
        >
          ✕
        </button>
      </span>
    </li>
  );
}
