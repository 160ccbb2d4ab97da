// Confusion matrix of a run's validation labels; a cell opens the labels behind it.
import { useState } from 'react';

import { patchUrl } from '../../api/client';

export interface ValidationItem {
  annotationId: number;
  label: number;
  predicted: number;
}

export function ConfusionMatrix({
  classNames,
  items,
  onOpen,
}: {
  classNames: string[];
  items: ValidationItem[];
  onOpen: (annotationId: number) => void;
}) {
  const [cell, setCell] = useState<[number, number] | null>(null);
  const n = classNames.length;
  const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (const it of items) counts[it.label][it.predicted]++;
  const max = Math.max(1, ...counts.flat());
  const inCell = cell ? items.filter((it) => it.label === cell[0] && it.predicted === cell[1]) : [];
  // Compact enough for 8+ classes in a compared column: predicted classes head the columns
  // vertically, long names are cut with the full name in the tooltip.
  return (
    <div className="confusion">
      <table data-testid="confusion">
        <thead>
          <tr>
            <th className="corner">
              <span>true ↓</span>
              <span>predicted →</span>
            </th>
            {classNames.map((c) => (
              <th key={c} className="col-head" title={`predicted ${c}`}>
                <span>{c}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {counts.map((row, i) => (
            <tr key={classNames[i]}>
              <th className="row-head" title={`true ${classNames[i]}`}>
                {classNames[i]}
              </th>
              {row.map((v, j) => (
                <td
                  key={j}
                  title={`${v} of ${classNames[i]} predicted ${classNames[j]}`}
                  style={{ background: `rgba(${i === j ? '47,111,222' : '198,47,59'}, ${(0.08 + (0.7 * v) / max).toFixed(2)})` }}
                >
                  <button className="link" disabled={v === 0} onClick={() => setCell([i, j])}>
                    {v}
                  </button>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {cell && (
        <div className="gallery wide">
          {inCell.map((it) => (
            <button key={it.annotationId} className="patch" title={`label ${it.annotationId}`} onClick={() => onOpen(it.annotationId)}>
              <img src={patchUrl(it.annotationId)} alt="" />
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
