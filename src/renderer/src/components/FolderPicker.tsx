// Browses the server's file system (browser mode cannot see local paths; Electron could use
// a native dialog, but one picker for both keeps the UI identical).
import { useState } from 'react';
import { useQuery } from '../api/hooks';
import { Modal } from './Modal';

export function FolderPicker({ start, onPick, onCancel }: { start?: string; onPick: (path: string) => void; onCancel: () => void }) {
  const [path, setPath] = useState<string | undefined>(start);
  const listing = useQuery('fs:list', path ? { path } : {});
  const dir = listing.value;
  return (
    <Modal
      title="Choose a folder or file"
      onClose={onCancel}
      actions={
        <>
          <button onClick={onCancel}>Cancel</button>
          <button className="primary" disabled={!dir} onClick={() => dir && onPick(dir.path)}>
            Use this folder
          </button>
        </>
      }
    >
      <div className="picker-path" data-testid="picker-path" title={dir?.path}>
        {dir?.path ?? '…'}
      </div>
      {listing.error && <div className="error-text">{listing.error}</div>}
      <ul className="picker-list">
        {dir?.parent && (
          <li>
            <button className="link" onClick={() => setPath(dir.parent!)}>
              ⬑ ..
            </button>
          </li>
        )}
        {dir?.entries.map((e) => (
          <li key={e.name}>
            {e.kind === 'dir' ? (
              <button className="link" title={e.name} onClick={() => setPath(`${dir.path}/${e.name}`)}>
                📁 {e.name}
              </button>
            ) : (
              <button className="link file" title={e.name} onClick={() => onPick(`${dir.path}/${e.name}`)}>
                {e.name}
              </button>
            )}
          </li>
        ))}
      </ul>
    </Modal>
  );
}
