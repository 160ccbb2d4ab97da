// The `?` sheet: every key and gesture, grouped by where it works, drawn from the one table.
import { Modal } from '../../components/Modal';
import { GESTURES, SHORTCUTS, type Scope } from './keymap';

const SCOPES: Scope[] = ['Anywhere', 'Viewer', 'Labelling', 'Review queue', 'Cells in the viewer', 'Cell grids'];

export function ShortcutSheet({ onClose }: { onClose: () => void }) {
  const rows = [...SHORTCUTS, ...GESTURES];
  return (
    <Modal title="Keys and gestures" onClose={onClose} wide testId="shortcut-sheet">
      <div className="shortcut-groups">
        {SCOPES.map((scope) => (
          <section key={scope} className="shortcut-group">
            <h3>{scope}</h3>
            <table className="shortcuts">
              <tbody>
                {rows
                  .filter((r) => r.scope === scope)
                  .map((r) => (
                    <tr key={`${r.keys.join()}-${r.description}`} data-testid="shortcut-row">
                      <td className="keys">
                        {r.keys.map((k) => (
                          <kbd key={k}>{k}</kbd>
                        ))}
                      </td>
                      <td>{r.description}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </section>
        ))}
      </div>
    </Modal>
  );
}
