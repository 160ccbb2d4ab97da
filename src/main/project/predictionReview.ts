// The review queue of a run's predictions, kept in the project: the least certain first, what
// was accepted or corrected left out when the queue is opened again, skipped ones at the end.
// Accepting a prediction makes one label on its box; accepting it again (as the same or another
// class) relabels that label instead of adding a second one on the same box.
import { ApiError } from '../../shared/api';
import type { Annotation, ImageResults, Prediction, PredictionReview } from '../../shared/domain';
import { ReviewsRepository } from '../db/repositories/reviews';
import type { Project } from './project';

const repositories = new WeakMap<Project, ReviewsRepository>();
function reviews(project: Project): ReviewsRepository {
  let r = repositories.get(project);
  if (!r) repositories.set(project, (r = new ReviewsRepository(project.db)));
  return r;
}

/** A run's predictions (on one image) with the decision that stands on each. */
export function predictionsWithReviews(project: Project, runId: number, imageId?: number): Prediction[] {
  const standing = reviews(project).standing(runId, imageId);
  return project.runs.predictions(runId, imageId).map((p) => ({ ...p, review: standing.get(p.id) ?? null }));
}

/** What is left to review, least certain first; skipped predictions come after the others, oldest skip first. */
export function reviewQueue(project: Project, runId: number, limit: number, imageId?: number): Prediction[] {
  const open = predictionsWithReviews(project, runId, imageId).filter((p) => !p.review || p.review.decision === 'skipped');
  const byEntropy = (a: Prediction, b: Prediction) => b.entropy - a.entropy || a.id - b.id;
  const waiting = open.filter((p) => !p.review).sort(byEntropy);
  // Skipped ones in the order they were skipped, so skipping again moves one to the end.
  const skipped = open.filter((p) => p.review).sort((a, b) => a.review!.at.localeCompare(b.review!.at) || byEntropy(a, b));
  return [...waiting, ...skipped].slice(0, limit);
}

function requirePrediction(project: Project, predictionId: number): Prediction {
  const prediction = project.runs.getPrediction(predictionId);
  if (!prediction) throw new ApiError('not-found', `No prediction with id ${predictionId}.`);
  return prediction;
}

/** A prediction becomes a label (source accepted-prediction), with its class or a correction. */
export function acceptPrediction(project: Project, predictionId: number, classId?: number): Annotation {
  return project.transaction(() => {
    const prediction = requirePrediction(project, predictionId);
    const target = classId ?? prediction.classId;
    const earlier = reviews(project).get(predictionId);
    const made = earlier?.annotationId ? project.annotations.get(earlier.annotationId) : undefined;
    let label: Annotation;
    if (made && !made.deletedAt) {
      label = made.classId === target ? made : project.updateAnnotation({ id: made.id, classId: target });
    } else {
      label = project.createAnnotation({
        imageId: prediction.imageId,
        classId: target,
        box: prediction.box,
        source: 'accepted-prediction',
      });
    }
    const review: PredictionReview = {
      decision: target === prediction.classId ? 'accepted' : 'corrected',
      annotationId: label.id,
      actor: project.actor,
      at: new Date().toISOString(),
    };
    reviews(project).set(predictionId, review);
    project.audit.record({
      action: `prediction.${review.decision === 'accepted' ? 'accept' : 'correct'}`,
      entity: 'prediction',
      entityId: predictionId,
      after: review,
    });
    return label;
  });
}

/** Puts a prediction at the end of the queue; an accepted or corrected one stays as it is. */
export function skipPrediction(project: Project, predictionId: number): PredictionReview {
  return project.transaction(() => {
    requirePrediction(project, predictionId);
    const standing = reviews(project).get(predictionId);
    const label = standing?.annotationId ? project.annotations.get(standing.annotationId) : undefined;
    if (standing && standing.decision !== 'skipped' && label && !label.deletedAt) return standing;
    const review: PredictionReview = { decision: 'skipped', annotationId: null, actor: project.actor, at: new Date().toISOString() };
    reviews(project).set(predictionId, review);
    project.audit.record({ action: 'prediction.skip', entity: 'prediction', entityId: predictionId, after: review });
    return review;
  });
}

/** The runs with predictions on an image, newest run first (the viewer's overlay picker). */
export function imageResults(project: Project, imageId: number): ImageResults[] {
  return project.runs.predictionCountsForImage(imageId);
}
