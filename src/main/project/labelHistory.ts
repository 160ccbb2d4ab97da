// Undo and redo of labelling actions, persisted through the audit log: an undo or a redo
// is itself an audit entry naming the entry it reverses or re-applies, so the history
// survives a reload or a crash and the log still tells everything that happened.
import { ApiError } from '../../shared/api';
import type { Annotation } from '../../shared/domain';
import type { HistoryStep } from '../../shared/api';
import type { Project } from './project';

const editActions = new Set(['annotation.create', 'annotation.update', 'annotation.delete']);

interface HistoryRow {
  id: number;
  action: string;
  before: Annotation | null;
  after: (Annotation & { target?: number }) | null;
}

/** Replays one actor's labelling history on one image into done and undone stacks. */
function stacks(project: Project, imageId: number): { done: HistoryRow[]; undone: HistoryRow[] } {
  const rows = project.db
    .prepare(
      `SELECT id, action, before_json, after_json FROM audit_log
       WHERE entity = 'annotation' AND actor = ?
         AND json_extract(COALESCE(after_json, before_json), '$.imageId') = ?
       ORDER BY id`,
    )
    .all(project.actor, imageId) as { id: number; action: string; before_json: string | null; after_json: string | null }[];
  const byId = new Map<number, HistoryRow>();
  const done: HistoryRow[] = [];
  const undone: HistoryRow[] = [];
  for (const r of rows) {
    const row: HistoryRow = {
      id: r.id,
      action: r.action,
      before: r.before_json ? JSON.parse(r.before_json) : null,
      after: r.after_json ? JSON.parse(r.after_json) : null,
    };
    byId.set(row.id, row);
    if (editActions.has(row.action)) {
      done.push(row);
      undone.length = 0; // a new edit forgets what was undone
    } else if (row.action === 'annotation.undo' && done.at(-1)?.id === row.after?.target) {
      undone.push(done.pop()!);
    } else if (row.action === 'annotation.redo' && undone.at(-1)?.id === row.after?.target) {
      done.push(undone.pop()!);
    }
  }
  return { done, undone };
}

/** The annotation state that an entry left behind (`after`) or found (`before`). */
function stateOf(entry: HistoryRow, which: 'before' | 'after'): Annotation | null {
  if (entry.action === 'annotation.create') return which === 'after' ? entry.after : null;
  if (entry.action === 'annotation.delete') return which === 'before' ? entry.before : null;
  return which === 'before' ? entry.before : entry.after;
}

function applyState(project: Project, id: number, state: Annotation | null): Annotation {
  if (state === null) {
    project.annotations.softDelete(id);
  } else {
    project.annotations.restore(id);
    project.annotations.update(id, { classId: state.classId, box: state.box });
  }
  return project.annotations.get(id)!;
}

export function undoLabel(project: Project, imageId: number): HistoryStep {
  return project.transaction(() => {
    const entry = stacks(project, imageId).done.at(-1);
    if (!entry) return null;
    return step(project, imageId, entry, 'annotation.undo', stateOf(entry, 'before'));
  });
}

export function redoLabel(project: Project, imageId: number): HistoryStep {
  return project.transaction(() => {
    const entry = stacks(project, imageId).undone.at(-1);
    if (!entry) return null;
    return step(project, imageId, entry, 'annotation.redo', stateOf(entry, 'after'));
  });
}

function step(project: Project, imageId: number, entry: HistoryRow, action: string, state: Annotation | null): HistoryStep {
  const id = (entry.after ?? entry.before)!.id;
  const current = project.annotations.get(id);
  if (!current) throw new ApiError('not-found', `Label ${id} no longer exists.`);
  if (state && !project.classes.get(state.classId)) {
    throw new ApiError('conflict', 'The class of that label was deleted; it cannot be restored.');
  }
  const annotation = applyState(project, id, state);
  project.audit.record({
    action,
    entity: 'annotation',
    entityId: id,
    before: current,
    after: { ...annotation, imageId, target: entry.id },
  });
  return { annotation, action: entry.action };
}
