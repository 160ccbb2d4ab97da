import { useState } from 'react';
import { flattenClassTree } from '@shared/classes';
import type { ClassNode } from '@shared/domain';
import { client, thumbnailUrl } from '../../api/client';
import { download } from '../../components/download';
import { useQuery } from '../../api/hooks';

const pageSize = 200;

export function ImageList({ classes, version, onOpen }: { classes: ClassNode[]; version: number; onOpen: (id: number) => void }) {
  const [limit, setLimit] = useState(pageSize);
  const images = useQuery('images:list', { limit }, version);
  const byId = new Map(flattenClassTree(classes).map(({ node }) => [node.id, node]));
  const list = images.value ?? [];

  return (
    <section className="images" aria-label="Images">
      <div className="row spaced">
        <h2>Images</h2>
        <span className="spacer" />
        <button data-testid="export-csv" onClick={() => client.call('export:labels', { format: 'csv' }).then(download)}>
          Export labels and predictions (CSV)
        </button>
        <button onClick={() => client.call('export:labels', { format: 'geojson' }).then(download)}>GeoJSON</button>
      </div>
      {images.error && <div className="error-text">{images.error}</div>}
      {list.length === 0 && !images.error && <p className="muted">No images yet: import a folder above.</p>}
      <ul className="image-grid" data-testid="image-grid">
        {list.map((img) => (
          <li key={img.id} className="image-card" title={`${img.path}\nOpen to label`} data-testid={`image-${img.id}`}>
            <button className="card-open" onClick={() => onOpen(img.id)} aria-label={`Open ${img.path.split(/[\\/]/).pop()}`}>
              <img src={thumbnailUrl(img.id)} alt="" loading="lazy" />
              <div className="image-name">{img.path.split(/[\\/]/).pop()}</div>
              <div className="image-meta">
                {img.kind === 'slide' ? 'slide · ' : ''}
                {img.width}×{img.height}
              </div>
              <div className="chips">
                {Object.entries(img.counts).map(([classId, n]) => {
                  const c = byId.get(Number(classId));
                  return (
                    <span key={classId} className="chip" style={{ borderColor: c?.color, color: c?.color }}>
                      {c?.name ?? '?'} {n > 1 ? `×${n}` : ''}
                    </span>
                  );
                })}
              </div>
            </button>
          </li>
        ))}
      </ul>
      {list.length >= limit && (
        <button className="more" onClick={() => setLimit((l) => l + pageSize)}>
          Show more
        </button>
      )}
    </section>
  );
}
