// `cytotune info`: a project's classes (as a tree, with label counts) and its image counts.
import type { ClassNode } from '../../shared/domain';
import { Project } from '../../main/project/project';
import { defineCommand } from '../command';
import { projectPath } from '../projectPath';

interface ClassInfo {
  name: string;
  color: string;
  shortcut: string | null;
  labels: number;
  total: number;
  children: ClassInfo[];
}

const toInfo = (n: ClassNode): ClassInfo => ({
  name: n.name,
  color: n.color,
  shortcut: n.shortcut,
  labels: n.labelCount,
  total: n.totalCount,
  children: n.children.map(toInfo),
});

export const command = defineCommand({
  name: 'info',
  summary: 'classes (tree, label counts) and image counts of a project',
  usage: 'usage: cytotune info --project FILE [--json]',
  options: { project: { type: 'string', required: true }, json: { type: 'switch' } },
  async main({ values }, io) {
    const project = Project.open(projectPath(values.project!), { access: 'auto' });
    try {
      for (const warning of project.warnings) io.err(`warning: ${warning}`);
      const info = {
        project: project.info(),
        classes: project.classTree().map(toInfo),
        images: project.images.countsByKind(),
        labels: project.annotations.liveCount(),
      };
      if (values.json) {
        io.out(JSON.stringify(info, null, 2));
        return 0;
      }
      io.out(`${info.project.name}: ${info.images.image} images, ${info.images.slide} slides, ${info.labels} labels`);
      const print = (nodes: ClassInfo[], depth: number) =>
        nodes.forEach((n) => {
          io.out(`${'  '.repeat(depth)}${n.name}  ${n.total}`);
          print(n.children, depth + 1);
        });
      print(info.classes, 1);
      return 0;
    } finally {
      project.close();
    }
  },
});
