// Review-queue decisions kept in the project: accepted and corrected predictions leave the queue,
// skipped ones go to its end, accepting again relabels the one label a prediction made, and an
// undone label reopens its prediction.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Project } from '../../../../src/main/project/project';
import { acceptPrediction, predictionsWithReviews, reviewQueue, skipPrediction } from '../../../../src/main/project/predictionReview';
import { undoLabel } from '../../../../src/main/project/labelHistory';
import { tempDir } from '../../../support/paths';

let project: Project;
let imageId: number;
let runId: number;
let a: number;
let b: number;
let ids: number[];

beforeEach(() => {
  project = Project.open(join(tempDir(), 'review.cytotune'), { create: true });
  a = project.createClass({ name: 'A' }).id;
  b = project.createClass({ name: 'B' }).id;
  imageId = project.images.insert({ kind: 'slide', path: '/x/s.svs', sha256: 'ss', width: 4000, height: 4000, mpp: 0.5 }).id;
  runId = project.runs.insert({ modelId: null, config: { classes: [{ id: a }, { id: b }] }, seed: 1 }).id;
  for (let i = 0; i < 5; i++)
    project.runs.insertPrediction({
      runId,
      imageId,
      box: { x: 100 * i, y: 0, w: 64, h: 64 },
      classId: a,
      probabilities: [0.9 - 0.1 * i, 0.1 + 0.1 * i],
      entropy: 0.3 + 0.1 * i,
      cellId: null,
    });
  ids = reviewQueue(project, runId, 50, imageId).map((p) => p.id);
});
afterEach(() => project.close());

const liveOnImage = () => project.annotations.listForImage(imageId);

describe('the review queue', () => {
  it('starts least certain first and leaves out what was accepted or corrected', () => {
    const entropies = reviewQueue(project, runId, 50).map((p) => p.entropy);
    expect(entropies).toEqual([...entropies].sort((x, y) => y - x));
    acceptPrediction(project, ids[0]);
    acceptPrediction(project, ids[1], b);
    expect(reviewQueue(project, runId, 50, imageId).map((p) => p.id)).toEqual(ids.slice(2));
    const decisions = predictionsWithReviews(project, runId, imageId).map((p) => p.review?.decision ?? null);
    expect(decisions.filter(Boolean).sort()).toEqual(['accepted', 'corrected']);
  });

  it('keeps one label per prediction: accepting again, even as another class, relabels it', () => {
    const first = acceptPrediction(project, ids[0]);
    const again = acceptPrediction(project, ids[0]);
    const corrected = acceptPrediction(project, ids[0], b);
    expect(again.id).toBe(first.id);
    expect(corrected.id).toBe(first.id);
    expect(liveOnImage().map((l) => [l.id, l.classId])).toEqual([[first.id, b]]);
  });

  it('puts skipped predictions last, in the order they were skipped', () => {
    skipPrediction(project, ids[0]);
    skipPrediction(project, ids[1]);
    expect(reviewQueue(project, runId, 50).map((p) => p.id)).toEqual([...ids.slice(2), ids[0], ids[1]]);
    skipPrediction(project, ids[0]);
    expect(
      reviewQueue(project, runId, 50)
        .slice(-2)
        .map((p) => p.id),
    ).toEqual([ids[1], ids[0]]);
    // A skip never undoes an acceptance.
    acceptPrediction(project, ids[2]);
    expect(skipPrediction(project, ids[2]).decision).toBe('accepted');
  });

  it('reopens a prediction whose label was undone, and accepting it again makes one label', () => {
    acceptPrediction(project, ids[0]);
    undoLabel(project, imageId);
    expect(liveOnImage()).toEqual([]);
    expect(reviewQueue(project, runId, 50)[0].id).toBe(ids[0]);
    acceptPrediction(project, ids[0]);
    expect(liveOnImage()).toHaveLength(1);
  });
});
