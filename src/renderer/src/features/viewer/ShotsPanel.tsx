// Per class: labels so far against the target, the key that selects it, and a gallery of
// its patches cut by the main process; a click on a patch flies the viewer to it.
import { flattenClassTree } from '@shared/classes';
import type { Annotation, ClassNode } from '@shared/domain';
import { patchUrl } from '../../api/client';
import { useQuery } from '../../api/hooks';

interface Props {
  classes: ClassNode[];
  target: number;
  activeClassId: number | null;
  version: number;
  onPickClass: (id: number) => void;
  onOpenPatch: (a: Annotation) => void;
}

export function ShotsPanel({ classes, target, activeClassId, version, onPickClass, onOpenPatch }: Props) {
  const gallery = useQuery('annotations:byClass', activeClassId === null ? null : { classId: activeClassId, limit: 48 }, version);
  return (
    <section className="shots" aria-label="Shots">
      <h2>Shots (target {target})</h2>
      <ul className="shot-list">
        {flattenClassTree(classes).map(({ node, level }) => (
          <li
            key={node.id}
            data-testid={`shots-${node.name}`}
            className={node.id === activeClassId ? 'active' : ''}
            style={{ paddingLeft: 6 + (level - 1) * 12 }}
            onClick={() => onPickClass(node.id)}
          >
            <span className="key">{node.shortcut ?? '·'}</span>
            <span className="dot" style={{ background: node.color }} />
            <span className="name" title={node.name}>
              {node.name}
            </span>
            <span className="shot-count" data-testid={`shots-count-${node.name}`}>
              {node.labelCount}
            </span>
            <span className="bar">
              <span style={{ width: `${Math.min(100, (100 * node.labelCount) / target)}%`, background: node.color }} />
            </span>
          </li>
        ))}
      </ul>
      {activeClassId !== null && (
        <div className="gallery" data-testid="gallery">
          {(gallery.value ?? []).map((a) => (
            <button key={a.id} className="patch" title={`label ${a.id} on image ${a.imageId}`} onClick={() => onOpenPatch(a)}>
              <img src={patchUrl(a.id)} alt="" loading="lazy" />
            </button>
          ))}
        </div>
      )}
    </section>
  );
}
