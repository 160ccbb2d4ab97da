// Browses the server's file system (browser mode cannot see local paths; Electron could use
// a native dialog, but one picker for both keeps the UI identical).
import { useState } from 'react';
import { useQuery } from '../api/hooks';

export function FolderPicker({ start, onPick, onCancel }: { start?: string; onPick: (path: string) => void; onCancel: () => void }) {
  const [path, setPath] = useState<string | undefined>(start);
  const listing = useQuery('fs:list', path ? { path } : {});
  const dir = listing.value;
  return (
    <div className="modal-backdrop" onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
      <div className="modal" role="dialog" aria-label="Choose a folder or file">
        <div className="modal-title">Choose a folder or file</div>
        <div className="picker-path" data-testid="picker-path">
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
                <button className="link" onClick={() => setPath(`${dir.path}/${e.name}`)}>
                  📁 {e.name}
                </button>
              ) : (
                <button className="link file" onClick={() => onPick(`${dir.path}/${e.name}`)}>
                  {e.name}
                </button>
              )}
            </li>
          ))}
        </ul>
        <div className="modal-actions">
          <button onClick={onCancel}>Cancel</button>
          <button className="primary" disabled={!dir} onClick={() => dir && onPick(dir.path)}>
            Use this folder
          </button>
        </div>
      </div>
    </div>
  );
}
