// `cytotune export`: a project's labels, predictions and detected cells as CSV or
// QuPath GeoJSON, the same files as the workstation's Export menu.
import { writeFile } from 'node:fs/promises';
import { exportLabels } from '../../main/export/exportLabels';
import { Project } from '../../main/project/project';
import { defineCommand } from '../command';
import { projectPath } from '../projectPath';

export const command = defineCommand({
  name: 'export',
  summary: 'labels, predictions and detected cells as CSV or QuPath GeoJSON',
  usage:
    'usage: cytotune export --project FILE --format csv|geojson [--image ID] [--run ID] [--out FILE]\n' +
    'Labels, predictions and the cells of each image`s newest detection: a classified cell with its class, area,\n' +
    'stain and every class`s probability (GeoJSON: a QuPath detection on the nucleus outline). Without --out the file is printed.',
  options: {
    project: { type: 'string', required: true },
    format: { type: 'string', choices: ['csv', 'geojson'], required: true },
    image: { type: 'int', min: 1 },
    run: { type: 'int', min: 1 },
    out: { type: 'string' },
  },
  async main({ values: v }, io) {
    const project = Project.open(projectPath(v.project!), { access: 'auto' });
    try {
      for (const warning of project.warnings) io.err(`warning: ${warning}`);
      const file = exportLabels(project, v.format!, v.image, v.run);
      if (v.out) {
        await writeFile(v.out, file.text);
        io.err(`wrote ${v.out}`);
      } else io.out(file.text.trimEnd());
      return 0;
    } finally {
      project.close();
    }
  },
});
