import { useState, type FormEvent } from 'react';
import { client } from '../../api/client';
import { ErrorBanner } from '../../components/ErrorBanner';
import { FolderPicker } from '../../components/FolderPicker';

export function StartScreen({ onOpened, error }: { onOpened: () => void; error: string | null }) {
  const [path, setPath] = useState('');
  const [problem, setProblem] = useState<string | null>(error);
  const [picking, setPicking] = useState(false);

  const submit = async (mode: 'create' | 'open', e?: FormEvent) => {
    e?.preventDefault();
    if (!path.trim()) return setProblem('Type the path of a project file, e.g. /data/cervix.cytotune');
    try {
      await client.call(mode === 'create' ? 'project:create' : 'project:open', { path: path.trim() });
      onOpened();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };

  return (
    <main className="start">
      <h1>CytoTune</h1>
      <p className="subtitle">Label a few cells, fine-tune a foundation model, classify whole slides — offline.</p>
      <form className="card start-card" onSubmit={(e) => submit('create', e)}>
        <label htmlFor="project-path">Project file</label>
        <div className="row">
          <input
            id="project-path"
            data-testid="project-path"
            placeholder="/path/to/my-study.cytotune"
            value={path}
            onChange={(e) => setPath(e.target.value)}
            autoFocus
          />
          <button type="button" onClick={() => setPicking(true)}>
            Browse…
          </button>
        </div>
        <div className="row actions">
          <button type="submit" className="primary" data-testid="create-project">
            Create project
          </button>
          <button type="button" data-testid="open-project" onClick={() => submit('open')}>
            Open project
          </button>
        </div>
        <ErrorBanner message={problem} onDismiss={() => setProblem(null)} />
      </form>
      {picking && (
        <FolderPicker
          onCancel={() => setPicking(false)}
          onPick={(p) => {
            setPicking(false);
            setPath(p.endsWith('.cytotune') ? p : `${p}/project.cytotune`);
          }}
        />
      )}
    </main>
  );
}
