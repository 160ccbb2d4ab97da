// `cytotune import`: images, slides and ImageFolder trees into a project, through the same
// importer as the workstation (duplicates by content hash, class folders become classes).
import { importPaths } from '../../main/import/importer';
import { Project } from '../../main/project/project';
import { defineCommand } from '../command';
import { projectPath } from '../projectPath';

export const command = defineCommand({
  name: 'import',
  summary: 'import images, slides and ImageFolder trees into a project',
  usage:
    'usage: cytotune import --project FILE PATH... [--json]\n' +
    'Folders in the ImageFolder layout (DIR/<class>/<image>) create their classes and labels. Exit 1 when nothing could be read.',
  options: { project: { type: 'string', required: true }, json: { type: 'switch' } },
  positionals: { name: 'file or folder to import', min: 1 },
  async main({ values, positionals }, io) {
    const project = Project.open(projectPath(values.project!), { access: 'write' });
    try {
      for (const warning of project.warnings) io.err(`warning: ${warning}`);
      const summary = await importPaths(project, positionals, (p) => {
        if (p.total > 0) io.err(`importing ${p.done}/${p.total}  added ${p.added}  duplicates ${p.duplicates}  unreadable ${p.unreadable}`);
      });
      if (values.json) {
        io.out(JSON.stringify(summary, null, 2));
      } else {
        io.out(`added ${summary.added}, duplicates ${summary.duplicates}, unreadable ${summary.unreadable.length}`);
        if (summary.classesCreated.length) io.out(`classes created: ${summary.classesCreated.join(', ')}`);
        for (const u of summary.unreadable) io.out(`unreadable: ${u.path}: ${u.reason}`);
      }
      const nothingFound = summary.added + summary.duplicates === 0 && summary.unreadable.length > 0;
      return nothingFound ? 1 : 0;
    } finally {
      project.close();
    }
  },
});
