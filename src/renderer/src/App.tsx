import { useCallback, useState } from 'react';
import type { ProjectInfo } from '@shared/domain';
import { client } from './api/client';
import { useQuery } from './api/hooks';
import { StartScreen } from './features/projects/StartScreen';
import { ProjectScreen } from './features/projects/ProjectScreen';

export function App() {
  const [version, setVersion] = useState(0);
  const current = useQuery('project:current', {}, version);
  const changed = useCallback(() => setVersion((v) => v + 1), []);

  if (current.value === undefined && !current.error) return <div className="loading">Loading…</div>;
  const project: ProjectInfo | null = current.value ?? null;
  if (!project) return <StartScreen onOpened={changed} error={current.error} />;
  return (
    <ProjectScreen
      project={project}
      onClose={async () => {
        await client.call('project:close', {});
        changed();
      }}
    />
  );
}
