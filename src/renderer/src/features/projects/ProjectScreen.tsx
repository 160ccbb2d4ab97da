import { useCallback, useEffect, useState } from 'react';
import type { Annotation, ProjectInfo } from '../../../../shared/domain';
import { useEvent, useQuery } from '../../api/hooks';
import { ClassManager } from '../classes/ClassManager';
import { ImageList } from '../images/ImageList';
import { ImportPanel } from '../import/ImportPanel';
import { LabelScreen } from '../viewer/LabelScreen';

/** The open image lives in the URL hash (#/image/12), so a reload returns to it. */
function imageFromHash(): number | null {
  const m = /^#\/image\/(\d+)$/.exec(window.location.hash);
  return m ? Number(m[1]) : null;
}

export function ProjectScreen({ project, onClose }: { project: ProjectInfo; onClose: () => void }) {
  // One counter invalidates every view after a change (labels, classes, imports).
  const [version, setVersion] = useState(0);
  const bump = useCallback(() => setVersion((v) => v + 1), []);
  const info = useQuery('project:info', {}, version);
  const current = useQuery('project:current', {}, version);
  const [imageId, setImageId] = useState<number | null>(imageFromHash);
  const [focus, setFocus] = useState<Annotation | undefined>(undefined);
  useEvent('project:changed', bump);

  useEffect(() => {
    const onHash = () => setImageId(imageFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const openImage = useCallback((id: number | null, at?: Annotation) => {
    setFocus(at);
    window.location.hash = id === null ? '' : `#/image/${id}`;
    setImageId(id);
  }, []);
  const image = useQuery('images:get', { id: imageId ?? 1 }, imageId ?? -1);

  const classes = info.value?.classes ?? [];
  const counts = info.value?.counts;
  const settings = current.value?.settings ?? project.settings;
  const labelling = imageId !== null && image.value?.id === imageId;
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
      {labelling ? (
        <LabelScreen
          key={imageId}
          image={image.value!}
          classes={classes}
          settings={settings}
          version={version}
          focus={focus}
          onChanged={bump}
          onOpenImage={openImage}
          onBack={() => openImage(null)}
        />
      ) : (
        <div className="columns">
          <aside className="sidebar">
            <ClassManager classes={classes} onChanged={bump} />
          </aside>
          <main className="content">
            <ImportPanel onImported={bump} />
            <ImageList classes={classes} version={version} onOpen={(id) => openImage(id)} />
          </main>
        </div>
      )}
    </div>
  );
}
