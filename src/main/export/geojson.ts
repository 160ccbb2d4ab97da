// GeoJSON as QuPath reads it: a FeatureCollection in level-0 pixel coordinates; labels are
// annotations (their box), grid predictions detections (their patch), detected cells detections
// (the nucleus outline, or a point at the centre when none was stored) with QuPath's measurement
// names for area and stain and one probability per class. properties.classification carries the
// class name and colour (RGB integers); an unclassified cell has none, as in QuPath.
import type { ExportRow } from './labelTable';

type Geometry = { type: 'Polygon'; coordinates: number[][][] } | { type: 'Point'; coordinates: number[] };

export interface Feature {
  type: 'Feature';
  id: string;
  geometry: Geometry;
  properties: Record<string, unknown>;
}

export interface FeatureCollection {
  type: 'FeatureCollection';
  features: Feature[];
}

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

function boxRing({ x, y, w, h }: ExportRow['box']): number[][] {
  return [
    [x, y],
    [x + w, y],
    [x + w, y + h],
    [x, y + h],
    [x, y],
  ];
}

function geometryOf(r: ExportRow): Geometry {
  if (!r.cell) return { type: 'Polygon', coordinates: [boxRing(r.box)] };
  const outline = r.cell.outline;
  if (!outline || outline.length < 3) return { type: 'Point', coordinates: [r.cell.x, r.cell.y] };
  // Stored outlines are closed implicitly; GeoJSON rings repeat the first point.
  return { type: 'Polygon', coordinates: [[...outline, outline[0]]] };
}

function measurementsOf(r: ExportRow): Record<string, number> | null {
  const m: Record<string, number> = {};
  if (r.cell) {
    m['Nucleus: Area µm^2'] = r.cell.areaUm2;
    m['Nucleus: Hematoxylin OD mean'] = r.cell.meanOd;
    m['Nucleus: Circularity'] = r.cell.circularity;
  }
  if (r.probability !== null) m.probability = r.probability;
  if (r.entropy !== null) m.entropy = r.entropy;
  for (const [name, p] of Object.entries(r.probabilities ?? {})) m[`p_${name}`] = p;
  return Object.keys(m).length ? m : null;
}

export function toGeoJson(rows: ExportRow[]): FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: rows.map((r, i) => {
      const measurements = measurementsOf(r);
      return {
        type: 'Feature',
        id: `${r.type}-${i + 1}`,
        geometry: geometryOf(r),
        properties: {
          objectType: r.type === 'label' ? 'annotation' : 'detection',
          ...(r.className !== null && r.color !== null ? { classification: { name: r.className, color: rgb(r.color) } } : {}),
          isLocked: false,
          image: r.imagePath,
          ...(r.classPath !== null ? { classPath: r.classPath } : {}),
          source: r.source,
          ...(r.cell ? { cellId: r.cell.id } : {}),
          ...(measurements ? { measurements } : {}),
        },
      };
    }),
  };
}
