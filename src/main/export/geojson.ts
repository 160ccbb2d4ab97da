// GeoJSON as QuPath reads it: a FeatureCollection of polygons in level-0 pixel coordinates;
// labels are annotations, predictions detections; properties.classification carries the
// class name and colour (RGB integers).
import type { ExportRow } from './labelTable';

export interface Feature {
  type: 'Feature';
  id: string;
  geometry: { type: 'Polygon'; coordinates: number[][][] };
  properties: Record<string, unknown>;
}

export interface FeatureCollection {
  type: 'FeatureCollection';
  features: Feature[];
}

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

export function toGeoJson(rows: ExportRow[]): FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: rows.map((r, i) => {
      const { x, y, w, h } = r.box;
      return {
        type: 'Feature',
        id: `${r.type}-${i + 1}`,
        // A closed ring, counter-clockwise in image coordinates as QuPath writes it.
        geometry: {
          type: 'Polygon',
          coordinates: [
            [
              [x, y],
              [x + w, y],
              [x + w, y + h],
              [x, y + h],
              [x, y],
            ],
          ],
        },
        properties: {
          objectType: r.type === 'label' ? 'annotation' : 'detection',
          classification: { name: r.className, color: rgb(r.color) },
          isLocked: false,
          image: r.imagePath,
          classPath: r.classPath,
          source: r.source,
          ...(r.probability !== null ? { measurements: { probability: r.probability, entropy: r.entropy } } : {}),
        },
      };
    }),
  };
}
