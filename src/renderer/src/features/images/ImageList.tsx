import { useState } from 'react';
import { flattenClassTree } from '@shared/classes';
import type { ClassNode, ImageFilter } from '@shared/domain';
import { client, thumbnailUrl } from '../../api/client';
import { download } from '../../components/download';
import { useQuery } from '../../api/hooks';
import { plural } from '../../components/plural';
import { usePersistentState } from '../../components/usePersistentState';
import { ImageFilters } from './ImageFilters';

const pageSize = 200;

interface Props {
  classes: ClassNode[];
  version: number;
  /** The filter is remembered per project. */
  projectPath: string;
  onOpen: (id: number) => void;
}

export function ImageList({ classes, version, projectPath, onOpen }: Props) {
  const [limit, setLimit] = useState(pageSize);
  const [filter, setFilter] = usePersistentState<ImageFilter>(`cytotune.imageFilter:${projectPath}`, {});
  const images = useQuery('images:list', { limit, ...filter }, version);
  const count = useQuery('images:count', filter, version);
  const flat = flattenClassTree(classes);
  const byId = new Map(flat.map(({ node }) => [node.id, node]));
  // A filter on a class that was deleted since shows everything.
  const active: ImageFilter = filter.classId !== undefined && !byId.has(filter.classId) ? { ...filter, classId: undefined } : filter;
  const list = images.value ?? [];
  const filtered = Object.values(active).some((v) => v !== undefined && v !== '');

  return (
    <section className="images" aria-label="Images">
      <div className="row spaced">
        <h2>Images</h2>
        <span className="muted" data-testid="image-count">
          {count.value &&
            (filtered ? `${count.value.matching} of ${plural(count.value.total, 'image')}` : plural(count.value.total, 'image'))}
        </span>
        <span className="spacer" />
        <button data-testid="export-csv" onClick={() => client.call('export:labels', { format: 'csv' }).then(download)}>
          Export labels and predictions (CSV)
        </button>
        <button onClick={() => client.call('export:labels', { format: 'geojson' }).then(download)}>GeoJSON</button>
      </div>
      <ImageFilters
        classes={flat}
        filter={active}
        onChange={(f) => {
          setLimit(pageSize);
          setFilter(f);
        }}
      />
      {images.error && <div className="error-text">{images.error}</div>}
      {list.length === 0 && !images.error && (
        <p className="muted">{filtered ? 'No image matches this filter.' : 'No images yet: import a folder above.'}</p>
      )}
      <ul className="image-grid" data-testid="image-grid">
        {list.map((img) => {
          const name = img.path.split(/[\\/]/).pop();
          return (
            <li key={img.id} className="image-card" title={`${img.path}\nOpen to label`} data-testid={`image-${img.id}`}>
              <button className="card-open" onClick={() => onOpen(img.id)} aria-label={`Open ${name}`}>
                <img src={thumbnailUrl(img.id)} alt="" loading="lazy" />
                <div className="image-name">{name}</div>
                <div className="image-meta">
                  {img.kind === 'slide' ? 'slide · ' : ''}
                  {img.width}×{img.height}
                </div>
                <div className="chips">
                  {Object.entries(img.counts).map(([classId, n]) => {
                    const c = byId.get(Number(classId));
                    return (
                      <span key={classId} className="chip" style={{ borderColor: c?.color, color: c?.color }} title={c?.name}>
                        {c?.name ?? '?'} {n > 1 ? `×${n}` : ''}
                      </span>
                    );
                  })}
                </div>
              </button>
            </li>
          );
        })}
      </ul>
      {list.length >= limit && (
        <button className="more" onClick={() => setLimit((l) => l + pageSize)}>
          Show more
        </button>
      )}
    </section>
  );
}
