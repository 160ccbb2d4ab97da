// Live curves of one run: loss, learning rate and training accuracy per step.
import type { RunMetric } from '@shared/domain';
import { LineChart } from './LineChart';

export function RunCharts({ metrics, color = '#2f6fde' }: { metrics: RunMetric[]; color?: string }) {
  const series = (key: 'loss' | 'lr' | 'accuracy') => [
    { name: key, color, points: metrics.filter((m) => m[key] !== null).map((m) => ({ x: m.step, y: m[key]! })) },
  ];
  return (
    <div className="charts">
      <LineChart title="loss" series={series('loss')} testId="chart-loss" />
      <LineChart title="learning rate" series={series('lr')} log testId="chart-lr" />
      <LineChart title="training accuracy" series={series('accuracy')} testId="chart-accuracy" />
    </div>
  );
}
