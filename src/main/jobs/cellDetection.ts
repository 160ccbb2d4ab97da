// Starting and resuming cell detection from the workstation: the parameters are checked here
// (in micrometres, converted with the image's mpp by the detector), each run is recorded with
// its detector version, and a run interrupted by a stop resumes from its last stored tile.
import { ApiError } from '../../shared/api';
import type { DetectionRun } from '../../shared/cells';
import { checkParams, DETECTOR_VERSION, PRESETS, type DetectionParams, type PresetName } from '../../slides/cells';
import type { Project } from '../project/project';
import type { JobQueue } from './jobManager';

export interface StartDetection {
  imageId: number;
  preset?: PresetName;
  /** Overrides of the preset (nucleus diameters in um, minimum contrast in OD, ...). */
  params?: Partial<DetectionParams>;
  /** Pyramid level to detect at (0: full resolution). */
  level?: number;
}

export function startDetection(project: Project, jobs: JobQueue, req: StartDetection): DetectionRun {
  const image = project.requireImage(req.imageId);
  const checked = checkParams(req.params ?? {}, PRESETS[req.preset ?? 'pap-lbc']);
  if (!checked.ok) throw new ApiError('invalid-input', checked.message);
  const level = req.level ?? 0;
  return project.transaction(() => {
    const run = project.cells.createRun(image.id, DETECTOR_VERSION, { ...checked.params }, level);
    jobs.submit(
      { kind: 'detect', spec: { detectionRunId: run.id, imageId: image.id, path: image.path, params: { ...checked.params }, level } },
      null,
    );
    project.audit.record({
      action: 'cells.detect.start',
      entity: 'image',
      entityId: image.id,
      after: { detectionRunId: run.id, params: checked.params, level },
    });
    return run;
  });
}

/** Queues again the detections a previous session left unfinished, each from its checkpoint. */
export function resumeInterruptedDetections(project: Project, jobs: JobQueue): void {
  for (const run of project.cells.interrupted()) {
    const image = project.images.get(run.imageId);
    if (!image) continue;
    project.cells.setStatus(run.id, 'queued');
    jobs.submit(
      {
        kind: 'detect',
        spec: {
          detectionRunId: run.id,
          imageId: image.id,
          path: image.path,
          params: run.params,
          level: run.level,
          resumeFrom: run.checkpoint ?? undefined,
        },
      },
      null,
    );
  }
}
