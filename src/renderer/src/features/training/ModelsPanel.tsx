// Foundation models: add a checkpoint by path after seeing what it is (family, size,
// parameters, sha256); refused files say why; with none installed, say what to download.
import { useState } from 'react';
import { modelHelp, type ModelInspection, type ModelRecord } from '@shared/domain';
import { client } from '../../api/client';
import { ErrorBanner } from '../../components/ErrorBanner';
import { FolderPicker } from '../../components/FolderPicker';

const mb = (bytes: unknown) => `${(Number(bytes) / 1e6).toFixed(0)} MB`;
const millions = (n: unknown) => `${(Number(n) / 1e6).toFixed(1)} M`;

export function ModelsPanel({ models, onChanged }: { models: ModelRecord[]; onChanged: () => void }) {
  const [path, setPath] = useState('');
  const [found, setFound] = useState<ModelInspection | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [picking, setPicking] = useState(false);
  const [adapterPath, setAdapterPath] = useState('');

  const inspect = async () => {
    setBusy(true);
    setFound(null);
    setProblem(null);
    try {
      setFound(await client.call('models:inspect', { path: path.trim() }));
    } catch (e) {
      setProblem((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const add = async () => {
    try {
      await client.call('models:add', { path: found!.path });
      setFound(null);
      setPath('');
      onChanged();
    } catch (e) {
      setProblem((e as Error).message);
    }
  };

  return (
    <section className="card" aria-label="Foundation models">
      <h2>Foundation models</h2>
      {models.length === 0 && (
        <p className="muted" data-testid="model-help">
          {modelHelp}
        </p>
      )}
      <ul className="plain" data-testid="model-list">
        {models.map((m) => (
          <li key={m.id}>
            <b>{m.path.split(/[\\/]/).pop()}</b> · {m.family} · {String(m.config.width)}w × {String(m.config.depth)} blocks ·{' '}
            {millions(m.config.parameterCount)} params · {mb(m.config.sizeBytes)}
          </li>
        ))}
      </ul>
      <div className="row">
        <input
          data-testid="model-path"
          placeholder="/models/clip-vit-b16/model.safetensors"
          value={path}
          onChange={(e) => setPath(e.target.value)}
        />
        <button onClick={() => setPicking(true)}>Browse…</button>
        <button data-testid="model-inspect" disabled={busy || !path.trim()} onClick={inspect}>
          {busy ? 'Reading…' : 'Check'}
        </button>
      </div>
      {found && (
        <div className="found" data-testid="model-found">
          {found.family}, image {String(found.config.imageSize)} px, patch {String(found.config.patchSize)}, width{' '}
          {String(found.config.width)}, {String(found.config.depth)} blocks, {millions(found.parameterCount)} parameters,{' '}
          {mb(found.sizeBytes)}, sha256 {found.sha256.slice(0, 12)}…
          <button className="primary" data-testid="model-add" onClick={add}>
            Add this model
          </button>
        </div>
      )}
      {models.length > 0 && (
        <div className="row">
          <input
            placeholder="/exports/run-3.cytotune-adapter"
            value={adapterPath}
            onChange={(e) => setAdapterPath(e.target.value)}
            aria-label="Adapter file"
          />
          <button
            disabled={!adapterPath.trim()}
            onClick={() =>
              client.call('runs:importAdapter', { path: adapterPath.trim() }).then(
                () => (setAdapterPath(''), onChanged()),
                (e: Error) => setProblem(e.message),
              )
            }
          >
            Import adapter
          </button>
        </div>
      )}
      <ErrorBanner message={problem} onDismiss={() => setProblem(null)} />
      {picking && (
        <FolderPicker
          onCancel={() => setPicking(false)}
          onPick={(p) => {
            setPicking(false);
            setPath(p);
          }}
        />
      )}
    </section>
  );
}
