// The one table of keyboard shortcuts: the key handlers look keys up here (findShortcut), and
// the `?` sheet is drawn from it, so the sheet cannot say one thing while the keys do another.
// Order matters: the first matching row of the active scopes wins (the review queue owns Enter
// and the digits while it has patches, before they pick classes).

export type Scope = 'Anywhere' | 'Review queue' | 'Labelling' | 'Viewer' | 'Cells in the viewer' | 'Cell grids';

export type ShortcutId =
  | 'help'
  | 'close'
  | 'reviewAccept'
  | 'reviewCorrect'
  | 'reviewSkip'
  | 'pickClass'
  | 'undo'
  | 'redo'
  | 'deleteLabel'
  | 'panLeft'
  | 'panRight'
  | 'panUp'
  | 'panDown'
  | 'zoomIn'
  | 'zoomOut'
  | 'fit'
  | 'cellPreview'
  | 'cellLabel'
  | 'gridMove'
  | 'gridLabel'
  | 'gridAccept'
  | 'gridUnlabel'
  | 'gridUndo'
  | 'gridSkip'
  | 'gridOpen';

/** The parts of a KeyboardEvent a shortcut looks at. */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

export interface Shortcut {
  id: ShortcutId;
  scope: Scope;
  /** The keys as the sheet writes them. */
  keys: string[];
  description: string;
  matches(e: KeyPress): boolean;
}

const mod = (e: KeyPress) => e.ctrlKey || e.metaKey;
const plain = (e: KeyPress) => !mod(e) && !e.altKey;
const digit = (e: KeyPress) => plain(e) && /^[0-9]$/.test(e.key);
const arrow = (name: string) => (e: KeyPress) => !mod(e) && e.key === name;

export const SHORTCUTS: readonly Shortcut[] = [
  { id: 'help', scope: 'Anywhere', keys: ['?'], description: 'show this list of keys', matches: (e) => e.key === '?' && !mod(e) },
  {
    id: 'close',
    scope: 'Anywhere',
    keys: ['Esc'],
    description: 'close a dialog or menu; in the viewer, clear the selection',
    matches: (e) => e.key === 'Escape',
  },
  {
    id: 'reviewAccept',
    scope: 'Review queue',
    keys: ['Enter'],
    description: 'accept the prediction as a label',
    matches: (e) => plain(e) && e.key === 'Enter',
  },
  { id: 'reviewCorrect', scope: 'Review queue', keys: ['1–9', '0'], description: 'correct it to that class and accept it', matches: digit },
  {
    id: 'reviewSkip',
    scope: 'Review queue',
    keys: ['S'],
    description: 'skip it for now: it comes back at the end of the queue',
    matches: (e) => plain(e) && e.key.toLowerCase() === 's',
  },
  {
    id: 'pickClass',
    scope: 'Labelling',
    keys: ['1–9', '0'],
    description: 'pick a class by its key (relabels the selected box)',
    matches: digit,
  },
  {
    id: 'undo',
    scope: 'Labelling',
    keys: ['Ctrl+Z'],
    description: 'undo the last labelling action on this image',
    matches: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'z',
  },
  {
    id: 'redo',
    scope: 'Labelling',
    keys: ['Ctrl+Shift+Z', 'Ctrl+Y'],
    description: 'redo',
    matches: (e) => mod(e) && ((e.shiftKey && e.key.toLowerCase() === 'z') || e.key.toLowerCase() === 'y'),
  },
  {
    id: 'deleteLabel',
    scope: 'Labelling',
    keys: ['Delete', 'Backspace'],
    description: 'delete the selected box',
    matches: (e) => plain(e) && (e.key === 'Delete' || e.key === 'Backspace'),
  },
  { id: 'panLeft', scope: 'Viewer', keys: ['←'], description: 'pan left (Shift: further)', matches: arrow('ArrowLeft') },
  { id: 'panRight', scope: 'Viewer', keys: ['→'], description: 'pan right (Shift: further)', matches: arrow('ArrowRight') },
  { id: 'panUp', scope: 'Viewer', keys: ['↑'], description: 'pan up (Shift: further)', matches: arrow('ArrowUp') },
  { id: 'panDown', scope: 'Viewer', keys: ['↓'], description: 'pan down (Shift: further)', matches: arrow('ArrowDown') },
  { id: 'zoomIn', scope: 'Viewer', keys: ['+', '='], description: 'zoom in', matches: (e) => plain(e) && (e.key === '+' || e.key === '=') },
  { id: 'zoomOut', scope: 'Viewer', keys: ['-'], description: 'zoom out', matches: (e) => plain(e) && (e.key === '-' || e.key === '_') },
  { id: 'fit', scope: 'Viewer', keys: ['Home'], description: 'show the whole image', matches: (e) => plain(e) && e.key === 'Home' },
  // Cells (features/cells): in the viewer of a slide, and in the sorter, gallery and review queue.
  {
    id: 'cellPreview',
    scope: 'Cells in the viewer',
    keys: ['P'],
    description: 'preview the cell detector on this view',
    matches: (e) => plain(e) && e.key.toLowerCase() === 'p',
  },
  {
    id: 'cellLabel',
    scope: 'Cells in the viewer',
    keys: ['1–9', '0'],
    description: 'label the selected cell (the patch centred on it)',
    matches: digit,
  },
  {
    id: 'gridMove',
    scope: 'Cell grids',
    keys: ['←', '→', '↑', '↓', 'Home', 'End'],
    description: 'move through the cells (case list: through the slides)',
    matches: (e) => plain(e) && ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End'].includes(e.key),
  },
  {
    id: 'gridLabel',
    scope: 'Cell grids',
    keys: ['1–9', '0'],
    description: 'sorter: label the cell and move on; gallery, review queue: correct the prediction to that class',
    matches: digit,
  },
  {
    id: 'gridAccept',
    scope: 'Cell grids',
    keys: ['Enter'],
    description: 'gallery, review queue: accept the prediction as a label; case list: open the slide’s gallery',
    matches: (e) => plain(e) && e.key === 'Enter',
  },
  {
    id: 'gridUnlabel',
    scope: 'Cell grids',
    keys: ['Delete', 'Backspace'],
    description: 'sorter: take the label off the cell',
    matches: (e) => plain(e) && (e.key === 'Delete' || e.key === 'Backspace'),
  },
  {
    id: 'gridUndo',
    scope: 'Cell grids',
    keys: ['Ctrl+Z'],
    description: 'sorter: undo the last label',
    matches: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'z',
  },
  {
    id: 'gridSkip',
    scope: 'Cell grids',
    keys: ['S'],
    description: 'review queue: skip the cell for now',
    matches: (e) => plain(e) && e.key.toLowerCase() === 's',
  },
  {
    id: 'gridOpen',
    scope: 'Cell grids',
    keys: ['O'],
    description: 'open the cell in the labelling viewer',
    matches: (e) => plain(e) && e.key.toLowerCase() === 'o',
  },
];

/** Mouse gestures of the viewer, listed on the sheet beside the keys. */
export const GESTURES: readonly { scope: Scope; keys: string[]; description: string }[] = [
  { scope: 'Labelling', keys: ['click'], description: 'drop a patch of the project’s patch size, or select a box' },
  { scope: 'Labelling', keys: ['Shift+drag'], description: 'draw a box' },
  { scope: 'Labelling', keys: ['drag'], description: 'move the selected box; elsewhere, pan' },
  { scope: 'Viewer', keys: ['wheel'], description: 'zoom' },
  { scope: 'Cells in the viewer', keys: ['click'], description: 'near a detected cell: select it' },
  {
    scope: 'Cell grids',
    keys: ['click'],
    description: 'focus a cell (gallery: show it on the slide); double-click opens it in the viewer',
  },
];

/** The first shortcut of the given scopes that `e` triggers. */
export function findShortcut(e: KeyPress, scopes: readonly Scope[]): Shortcut | undefined {
  return SHORTCUTS.find((s) => scopes.includes(s.scope) && s.matches(e));
}

/** True when keys typed into the target belong to it (a text field or a menu). */
export function typingInto(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}
