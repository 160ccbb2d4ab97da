// Learning-rate choice and mean ± std over seeds, results.csv round trip (including a line cut
// by a crash), and the SVG charts.
import { mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { aggregate, chooseLearningRate, meanStd } from '../../../../src/ml/experiment/aggregate';
import { renderChartSvg, svgToPng, yRange } from '../../../../src/ml/experiment/plots';
import { writeReport } from '../../../../src/ml/experiment/report';
import { appendResult, readResults, type ResultRow } from '../../../../src/ml/experiment/resultsCsv';

function row(p: Partial<ResultRow> & Pick<ResultRow, 'seed' | 'lr' | 'valAcc' | 'testAcc'>): ResultRow {
  return {
    model: 'm',
    method: 'lora',
    regime: { kind: 'shots', value: 4 },
    valLoss: 1,
    testBalancedAcc: p.testAcc,
    testLevelAcc: [],
    seconds: 1,
    steps: 10,
    trainImages: 8,
    valImages: 8,
    testImages: 20,
    finishedAt: '2025-01-01T00:00:00.000Z',
    ...p,
  };
}

describe('learning-rate choice and aggregation', () => {
  it('picks the highest validation accuracy, then the lower validation loss, then the --lrs order', () => {
    const lrs = [1e-2, 1e-3, 1e-4];
    expect(
      chooseLearningRate(
        [
          row({ seed: 1, lr: 1e-2, valAcc: 0.5, testAcc: 0.9 }),
          row({ seed: 1, lr: 1e-3, valAcc: 0.75, testAcc: 0.1 }),
          row({ seed: 1, lr: 1e-4, valAcc: 0.25, testAcc: 0.5 }),
        ],
        lrs,
      ).lr,
    ).toBe(1e-3);
    expect(
      chooseLearningRate(
        [
          row({ seed: 1, lr: 1e-2, valAcc: 0.5, valLoss: 0.9, testAcc: 0 }),
          row({ seed: 1, lr: 1e-3, valAcc: 0.5, valLoss: 0.4, testAcc: 0 }),
        ],
        lrs,
      ).lr,
    ).toBe(1e-3);
    expect(
      chooseLearningRate([row({ seed: 1, lr: 1e-3, valAcc: 0.5, testAcc: 0 }), row({ seed: 1, lr: 1e-2, valAcc: 0.5, testAcc: 0 })], lrs)
        .lr,
    ).toBe(1e-2);
  });

  it('reports the test accuracy of the chosen lr as mean and population std over seeds; incomplete sweeps wait', () => {
    const lrs = [1e-2, 1e-3];
    const rows = [
      row({ seed: 1, lr: 1e-2, valAcc: 0.9, testAcc: 0.8 }),
      row({ seed: 1, lr: 1e-3, valAcc: 0.5, testAcc: 0.99 }),
      row({ seed: 2, lr: 1e-2, valAcc: 0.2, testAcc: 0.99 }),
      row({ seed: 2, lr: 1e-3, valAcc: 0.6, testAcc: 0.6 }),
      row({ seed: 3, lr: 1e-2, valAcc: 1, testAcc: 0.1 }), // seed 3 lacks lr 1e-3: not counted yet
    ];
    const [a] = aggregate(rows, lrs);
    expect(a.seeds).toEqual([1, 2]);
    expect(a.chosenLrs).toEqual([1e-2, 1e-3]);
    expect(a.test.mean).toBeCloseTo(0.7, 12);
    expect(a.test.std).toBeCloseTo(0.1, 12);
    expect(meanStd([1, 2, 3, 4]).std).toBeCloseTo(Math.sqrt(1.25), 12);
  });
});

describe('results.csv', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cytotune-csv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips rows exactly and ignores a line cut short by a crash', async () => {
    const path = join(dir, 'results.csv');
    const a = row({ seed: 1, lr: 3e-4, valAcc: 1 / 3, testAcc: 2 / 7, valLoss: Math.PI, testLevelAcc: [0.75, 2 / 7] });
    const b = row({
      seed: 2,
      lr: 1e-2,
      valAcc: 0.5,
      testAcc: 0.25,
      regime: { kind: 'percent', value: 12.5 },
      method: 'linear',
      testLevelAcc: [1, 0.25],
    });
    await appendResult(path, a, 2);
    appendFileSync(path, 'm,lora,4,,3,0.001,0.5'); // crash mid-line
    await appendResult(path, b, 2);
    expect(readFileSync(path, 'utf8').split('\n')[0]).toBe(
      'model,method,shots,percent,seed,lr,val_acc,val_loss,test_acc,test_balanced_acc,seconds,steps,train_images,val_images,test_images,finished_at,test_acc_level1,test_acc_level2',
    );
    const back = await readResults(path);
    expect(back).toHaveLength(2);
    expect(back[0]).toEqual({ ...a, seconds: 1 });
    expect(back[1]).toEqual({ ...b, seconds: 1 });
  });

  it('writes summary.md, summary.json and only the figures whose runs exist', async () => {
    const out = join(dir, 'report');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(out);
    const rows = [1, 2].flatMap((seed) => [
      row({ seed, lr: 1e-2, valAcc: 0.5, testAcc: 0.6 + seed / 100, regime: { kind: 'shots', value: 1 } }),
      row({ seed, lr: 1e-2, valAcc: 0.5, testAcc: 0.7 + seed / 100, regime: { kind: 'shots', value: 4 } }),
      row({ seed, lr: 1e-2, valAcc: 0.5, testAcc: 0.8, method: 'linear', regime: { kind: 'percent', value: 100 } }),
    ]);
    const r = await writeReport(out, rows, {
      models: ['m'],
      lrs: [1e-2],
      seeds: [1, 2],
      levels: [],
      classNames: ['x', 'y'],
      remaining: 0,
      total: 6,
    });
    expect(r.figures).toEqual(['fig-shots.svg', 'fig-shots.png']);
    const md = readFileSync(r.summary, 'utf8');
    expect(md).toContain('| m | 80.00 ± 0.00 | 80.00 ± 0.00 | 1e-2, 1e-2 |');
    expect(md).toContain('| m | 61.50 ± 0.50 | 71.50 ± 0.50 |');
    expect(md).not.toContain('percentage of the training split');
    const svg = readFileSync(join(out, 'fig-shots.svg'), 'utf8');
    expect(svg.match(/class="point"/g)).toHaveLength(2);
    expect(svg.match(/class="ref"/g)).toHaveLength(1);
    const meta = await sharp(join(out, 'fig-shots.png')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1520, 920]);
  });
});

describe('charts', () => {
  it('places the reference line at its accuracy and ranges the y axis to the data', async () => {
    expect(yRange([62, 81])).toEqual({ lo: 60, hi: 85, step: 5 });
    const svg = renderChartSvg({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      xScale: 'log2',
      xTicks: [1, 2, 4],
      series: [
        {
          label: 'LoRA',
          color: '#000',
          points: [
            { x: 1, y: 60 },
            { x: 4, y: 80, err: 2 },
          ],
        },
      ],
      refLines: [{ label: 'probe', color: '#f00', y: 70 }],
    });
    // Values 60..82 give the axis 60..85; over the plot height 364 from y = 40, 70 % sits at
    // 40 + 364 * (85 - 70) / 25 = 258.4.
    expect(svg).toMatch(/class="ref" x1="64" x2="540" y1="258.4"/);
    expect(svg).toContain('class="errorbar"');
    const png = join(mkdtempSync(join(tmpdir(), 'cytotune-png-')), 'c.png');
    await svgToPng(svg, png);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    // The dashed red reference line is rasterised: red pixels exist on its row (x2 scale).
    const y = 517;
    let red = 0;
    for (let x = 0; x < info.width; x++) {
      const i = (y * info.width + x) * info.channels;
      if (data[i] > 200 && data[i + 1] < 80 && data[i + 2] < 80) red++;
    }
    expect(red).toBeGreaterThan(100);
  });
});
