// `cytotune study paper --dry-run`: the whole plan, printed. Per part its data, then one line per
// (model, method, shots or percentage): cells (seeds x learning rates) and how many are done,
// optimiser steps and training images per cell, images embedded, and the estimated time on this
// machine, from one training step measured per model size (ml/experiment/studyEstimate.ts).
// Trains nothing and writes nothing but the optional --json plan.
import { writeFileSync } from 'node:fs';
import type { StudyPart } from '../ml/experiment/paperStudy';
import { costKey, measureCost, type ModelCost } from '../ml/experiment/studyEstimate';
import { costRequests, planPart, readConfigs, type PartPlan } from '../ml/experiment/studyPlan';
import { formatDuration } from './duration';
import type { Io } from './io';

const EXPERIMENTS = { 1: 'Experiment 1 (Table 1)', 2: 'Experiment 2 (Figure 1)', 3: 'Experiment 3 (Figure 2)' } as const;

export async function printPlan(parts: StudyPart[], io: Io, jsonPath: string | null): Promise<number> {
  const { configs, errors } = readConfigs(parts);
  for (const [path, why] of errors) io.out(`  cannot read ${path}: ${why}`);
  const costs = new Map<string, ModelCost>();
  const requests = costRequests(parts, configs);
  if (requests.length) io.out(`measuring one LoRA training step per model size (${requests.length}; random weights, one block each)...`);
  for (const r of requests) {
    const t0 = performance.now();
    const cost = await measureCost(r);
    costs.set(costKey(r), cost);
    const c = r.config;
    io.out(
      `  ${c.family} ${c.imageSize} px / patch ${c.patchSize}, width ${c.width} x ${c.depth} blocks, LoRA r ${r.rank} on ${r.targets.join(',')}: ` +
        `${fmt(cost.trainPerImage * 32 + cost.trainPerStep)} per training step of 32 images, ${fmt(cost.forwardPerImage)} per image embedded (measured in ${fmt((performance.now() - t0) / 1000)})`,
    );
  }
  const plans: PartPlan[] = [];
  for (const p of parts) plans.push(await planPart(p, configs, costs));
  let totalCells = 0;
  let totalDone = 0;
  let totalSteps = 0;
  let totalSeconds = 0;
  let unknown = false;
  io.out('plan:');
  for (const pl of plans) {
    const p = pl.part;
    io.out(`${EXPERIMENTS[p.experiment]}, ${p.id}`);
    for (const s of p.skipped) io.out(`  ${s}`);
    if (!p.options) continue;
    if (pl.error) {
      io.out(`  not run: ${pl.error}`);
      continue;
    }
    const o = p.options;
    io.out(
      `  ${o.out}: ${pl.classes} classes${o.protocol.level ? ` (level ${o.protocol.level})` : ''}, train ${pl.images.train} / val ${pl.images.val} / test ${pl.images.test} images; ` +
        `seeds ${o.seeds.join(',')} x lrs ${o.lrs.join(',')}; LoRA r ${o.protocol.rank} on ${o.protocol.targets.join(',')}, iters ${o.protocol.iters}, probe epochs ${o.protocol.epochs}`,
    );
    io.out(`  ${'model'.padEnd(11)} ${'method'.padEnd(6)} ${'data'.padEnd(11)} cells  done  steps/cell  train imgs  embedded  time left`);
    let partSeconds = 0;
    for (const g of pl.groups) {
      const left = g.cells - g.done;
      totalCells += g.cells;
      totalDone += g.done;
      totalSteps += left * g.stepsPerCell;
      if (g.seconds === null) unknown = true;
      else partSeconds += g.seconds;
      io.out(
        `  ${g.model.padEnd(11)} ${g.method.padEnd(6)} ${g.regime.padEnd(11)} ${String(g.cells).padStart(5)} ${String(g.done).padStart(5)} ${String(g.stepsPerCell).padStart(11)} ` +
          `${String(g.trainImages).padStart(11)} ${String(g.evalImages).padStart(9)}  ${g.seconds === null ? '?' : formatDuration(g.seconds)}`,
      );
    }
    totalSeconds += partSeconds;
    io.out(`  part: ${formatDuration(partSeconds)}`);
  }
  io.out(
    `total: ${totalCells - totalDone} cells to run (${totalDone} already done), ${totalSteps} optimiser steps, estimated ${unknown ? 'at least ' : ''}${formatDuration(totalSeconds)} ` +
      '(one process; gradient worker processes, one per core on wasm, make LoRA up to about 1.9x faster on 2 cores; a GPU backend far more)',
  );
  if (jsonPath)
    writeFileSync(
      jsonPath,
      JSON.stringify(
        {
          costs: Object.fromEntries(costs),
          parts: plans.map((pl) => ({
            id: pl.part.id,
            experiment: pl.part.experiment,
            out: pl.part.options?.out ?? null,
            skipped: pl.part.skipped,
            error: pl.error,
            images: pl.images,
            classes: pl.classes,
            groups: pl.groups,
          })),
          total: { cells: totalCells, done: totalDone, steps: totalSteps, seconds: totalSeconds, complete: !unknown },
        },
        null,
        2,
      ) + '\n',
    );
  return 0;
}

function fmt(seconds: number): string {
  return seconds < 1 ? `${(seconds * 1000).toFixed(0)} ms` : seconds < 120 ? `${seconds.toFixed(1)} s` : formatDuration(seconds);
}
