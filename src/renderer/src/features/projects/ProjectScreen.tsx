import { useCallback, useEffect, useState } from 'react';
import type { Annotation, ProjectInfo } from '@shared/domain';
import { client } from '../../api/client';
import { useEvent, useQuery } from '../../api/hooks';
import { ClassManager } from '../classes/ClassManager';
import { ImageList } from '../images/ImageList';
import { ImportPanel } from '../import/ImportPanel';
import { TrainScreen } from '../training/TrainScreen';
import { LabelScreen } from '../viewer/LabelScreen';
import { CellsScreen } from '../cells/CellsScreen';
import { parseRoute, routeHash, type Route } from './route';
import { plural } from '../../components/plural';
import { dialogOpen } from '../../components/useEscape';
import { findShortcut, typingInto } from '../shortcuts/keymap';
import { ShortcutSheet } from '../shortcuts/ShortcutSheet';

export function ProjectScreen({ project, onClose }: { project: ProjectInfo; onClose: () => void }) {
  // One counter invalidates every view after a change (labels, classes, imports, runs).
  const [version, setVersion] = useState(0);
  const bump = useCallback(() => setVersion((v) => v + 1), []);
  const info = useQuery('project:info', {}, version);
  const current = useQuery('project:current', {}, version);
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash));
  const [focus, setFocus] = useState<Pick<Annotation, 'box'> | undefined>(undefined);
  const [keysShown, setKeysShown] = useState(false);
  useEvent('project:changed', bump);

  // `?` shows every key, on every screen (the sheet is drawn from the keys' own table).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (typingInto(e.target) || dialogOpen()) return;
      if (findShortcut(e, ['Anywhere'])?.id === 'help') {
        e.preventDefault();
        setKeysShown(true);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    const onHash = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const go = useCallback((next: Route, at?: Pick<Annotation, 'box'>) => {
    setFocus(at);
    window.location.hash = routeHash(next);
    setRoute(next);
  }, []);
  const openLabel = useCallback(
    async (annotationId: number) => {
      const a = await client.call('annotations:get', { id: annotationId });
      go({ screen: 'image', imageId: a.imageId, runId: null }, a);
    },
    [go],
  );
  const imageId = route.screen === 'image' ? route.imageId : null;
  const image = useQuery('images:get', imageId === null ? null : { id: imageId });

  const classes = info.value?.classes ?? [];
  const counts = info.value?.counts;
  const settings = current.value?.settings ?? project.settings;
  const tab = (r: Route, label: string, testId: string) => (
    <button className={`tab ${route.screen === r.screen ? 'active' : ''}`} data-testid={testId} onClick={() => go(r)}>
      {label}
    </button>
  );
  return (
    <div className="project">
      <header className="topbar">
        <span className="brand">CytoTune</span>
        <span className="project-name" data-testid="project-name" title={project.path}>
          {project.name}
        </span>
        {tab({ screen: 'images' }, 'Images & classes', 'tab-images')}
        {tab({ screen: 'train' }, 'Train & classify', 'tab-train')}
        {tab({ screen: 'cells', view: 'sort', imageId: null, runId: null }, 'Cells', 'tab-cells')}
        {counts && (
          <span className="muted" data-testid="project-counts">
            {plural(counts.images.image, 'image')} · {plural(counts.images.slide, 'slide')} · {plural(counts.annotations, 'label')}
          </span>
        )}
        <span className="spacer" />
        <button className="icon" onClick={() => setKeysShown(true)} title="Keys and gestures (?)" aria-label="Keys and gestures">
          ?
        </button>
        <button onClick={onClose}>Close project</button>
      </header>
      {route.screen === 'image' && image.value?.id === route.imageId ? (
        <LabelScreen
          key={`${route.imageId}/${route.runId}`}
          image={image.value}
          runId={route.runId}
          classes={classes}
          settings={settings}
          version={version}
          focus={focus}
          onChanged={bump}
          onOpenImage={(id, at) => go({ screen: 'image', imageId: id, runId: null }, at)}
          onOpenRun={(runId) => go({ screen: 'image', imageId: route.imageId, runId })}
          onBack={() => go({ screen: 'images' })}
        />
      ) : route.screen === 'cells' ? (
        <CellsScreen
          route={route}
          classes={classes}
          settings={settings}
          version={version}
          onChanged={bump}
          onNavigate={go}
          onOpenViewer={(id, box, runId) => go({ screen: 'image', imageId: id, runId }, box ? { box } : undefined)}
        />
      ) : route.screen === 'train' ? (
        <TrainScreen
          classes={classes}
          version={version}
          onChanged={bump}
          onOpenLabel={openLabel}
          onOpenResults={(id, runId) => go({ screen: 'image', imageId: id, runId })}
        />
      ) : (
        <div className="columns">
          <aside className="sidebar">
            <ClassManager classes={classes} onChanged={bump} />
          </aside>
          <main className="content">
            <ImportPanel onImported={bump} />
            <ImageList
              classes={classes}
              version={version}
              projectPath={project.path}
              onOpen={(id) => go({ screen: 'image', imageId: id, runId: null })}
            />
          </main>
        </div>
      )}
      {keysShown && <ShortcutSheet onClose={() => setKeysShown(false)} />}
    </div>
  );
}
