// `cytotune init`: an empty project file, as File > New project makes it.
import { existsSync } from 'node:fs';
import { Project } from '../../main/project/project';
import { UsageError } from '../args';
import { defineCommand } from '../command';
import { projectPath } from '../projectPath';

export const command = defineCommand({
  name: 'init',
  summary: 'create an empty project',
  usage: 'usage: cytotune init --project FILE\nCreates FILE (.cytotune is added when missing); refuses to replace an existing project.',
  options: { project: { type: 'string', required: true } },
  async main({ values }, io) {
    const path = projectPath(values.project!);
    if (existsSync(path)) throw new UsageError(`${path} already exists`);
    Project.open(path, { create: true }).close();
    io.out(`Created project ${path}`);
    return 0;
  },
});
