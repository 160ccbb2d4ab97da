import type { ExportedFile } from '../../shared/api';
import type { Project } from '../project/project';
import { toCsv } from './csv';
import { toGeoJson } from './geojson';
import { exportRows } from './labelTable';

/** Labels and predictions as a CSV table or a QuPath GeoJSON FeatureCollection. */
export function exportLabels(project: Project, format: 'csv' | 'geojson', imageId?: number, runId?: number): ExportedFile {
  const rows = exportRows(project, { imageId, runId });
  const stem = `${project.info().name}${imageId ? `-image-${imageId}` : ''}${runId ? `-run-${runId}` : ''}`;
  return format === 'csv'
    ? { filename: `${stem}.csv`, mimeType: 'text/csv', text: toCsv(rows) }
    : { filename: `${stem}.geojson`, mimeType: 'application/geo+json', text: JSON.stringify(toGeoJson(rows)) };
}
