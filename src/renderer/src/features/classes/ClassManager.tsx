// Add, rename, recolour, reorder, nest classes and give each a number key for labelling.
import { useState, type FormEvent } from 'react';
import { flattenClassTree } from '@shared/classes';
import type { ClassNode } from '@shared/domain';
import { client } from '../../api/client';
import { ErrorBanner } from '../../components/ErrorBanner';
import { ClassRow } from './ClassRow';

export function ClassManager({ classes, onChanged }: { classes: ClassNode[]; onChanged: () => void }) {
  const [name, setName] = useState('');
  const [parentId, setParentId] = useState<number | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const flat = flattenClassTree(classes);
  const byId = new Map(flat.map(({ node }) => [node.id, node]));
  // "Abnormal › Squamous › HSIL": the tooltip of a name the sidebar has to cut.
  const pathOf = (node: ClassNode): string => {
    const names = [node.name];
    for (
      let p = node.parentId === null ? undefined : byId.get(node.parentId);
      p;
      p = p.parentId === null ? undefined : byId.get(p.parentId)
    )
      names.unshift(p.name);
    return names.join(' › ');
  };

  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setProblem(null);
      onChanged();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };

  const add = (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return;
    void act(async () => {
      await client.call('classes:create', { name: name.trim(), parentId });
      setName('');
    });
  };

  return (
    <section className="classes" aria-label="Classes">
      <h2>Classes</h2>
      <ErrorBanner message={problem} onDismiss={() => setProblem(null)} />
      <ul className="class-list" data-testid="class-list">
        {flat.map(({ node, level }) => (
          <ClassRow key={node.id} node={node} depth={level - 1} path={pathOf(node)} all={flat.map((f) => f.node)} act={act} />
        ))}
        {flat.length === 0 && <li className="muted">No classes yet. Add one below, or import a labelled folder.</li>}
      </ul>
      <form className="add-class" onSubmit={add}>
        <input data-testid="new-class-name" placeholder="New class name" value={name} onChange={(e) => setName(e.target.value)} />
        <select
          data-testid="new-class-parent"
          aria-label="Parent class"
          value={parentId ?? ''}
          onChange={(e) => setParentId(e.target.value ? Number(e.target.value) : null)}
        >
          <option value="">(top level)</option>
          {flat.map(({ node, level }) => (
            <option key={node.id} value={node.id}>
              {'  '.repeat(level - 1) + node.name}
            </option>
          ))}
        </select>
        <button type="submit" className="primary" data-testid="add-class">
          Add
        </button>
      </form>
    </section>
  );
}
