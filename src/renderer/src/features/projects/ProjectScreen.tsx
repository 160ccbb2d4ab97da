import { useCallback, useState } from 'react';
import type { ProjectInfo } from '../../../../shared/domain';
import { useEvent, useQuery } from '../../api/hooks';
import { ClassManager } from '../classes/ClassManager';
import { ImageList } from '../images/ImageList';
import { ImportPanel } from '../import/ImportPanel';

export function ProjectScreen({ project, onClose }: { project: ProjectInfo; onClose: () => void }) {
  // One counter invalidates every view after a change (labels, classes, imports).
  const [version, setVersion] = useState(0);
  const bump = useCallback(() => setVersion((v) => v + 1), []);
  const info = useQuery('project:info', {}, version);
  useEvent('project:changed', bump);

  const classes = info.value?.classes ?? [];
  const counts = info.value?.counts;
  return (
    <div className="project">
      <header className="topbar">
        <span className="brand">CytoTune</span>
        <span className="project-name" data-testid="project-name" title={project.path}>
          {project.name}
        </span>
        {counts && (
          <span className="muted" data-testid="project-counts">
            {counts.images.image} images · {counts.images.slide} slides · {counts.annotations} labels
          </span>
        )}
        <span className="spacer" />
        <button onClick={onClose}>Close project</button>
      </header>
      <div className="columns">
        <aside className="sidebar">
          <ClassManager classes={classes} onChanged={bump} />
        </aside>
        <main className="content">
          <ImportPanel onImported={bump} />
          <ImageList classes={classes} version={version} />
        </main>
      </div>
    </div>
  );
}
