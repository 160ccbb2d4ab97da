// Headless project commands: init, import, info. They drive the same core as the UI.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ClassNode } from '../../shared/domain';
import { importPaths } from '../../main/import/importer';
import { Project } from '../../main/project/project';
import { exportLabels } from '../../main/export/exportLabels';
import { parseArgs, requireFlag, UsageError } from '../args';
import type { Io } from '../io';

function projectPath(raw: string): string {
  return resolve(raw.endsWith('.cytotune') ? raw : `${raw}.cytotune`);
}

export async function runInit(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, { values: ['project'] });
  const path = projectPath(requireFlag(args, 'project'));
  if (existsSync(path)) throw new UsageError(`${path} already exists`);
  Project.open(path, { create: true }).close();
  io.out(`Created project ${path}`);
  return 0;
}

export async function runImport(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, { values: ['project'], switches: ['json'] });
  const path = projectPath(requireFlag(args, 'project'));
  if (args.positionals.length === 0) throw new UsageError('give at least one file or folder to import');
  const project = Project.open(path);
  try {
    const summary = await importPaths(project, args.positionals, (p) => {
      if (p.total > 0) io.err(`importing ${p.done}/${p.total}  added ${p.added}  duplicates ${p.duplicates}  unreadable ${p.unreadable}`);
    });
    if (args.switches.has('json')) {
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
}

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

export async function runInfo(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, { values: ['project'], switches: ['json'] });
  const project = Project.open(projectPath(requireFlag(args, 'project')));
  try {
    const info = {
      project: project.info(),
      classes: project.classTree().map(toInfo),
      images: project.images.countsByKind(),
      labels: project.annotations.liveCount(),
    };
    if (args.switches.has('json')) {
      io.out(JSON.stringify(info, null, 2));
    } else {
      io.out(`${info.project.name}: ${info.images.image} images, ${info.images.slide} slides, ${info.labels} labels`);
      const print = (nodes: ClassInfo[], depth: number) =>
        nodes.forEach((n) => {
          io.out(`${'  '.repeat(depth)}${n.name}  ${n.total}`);
          print(n.children, depth + 1);
        });
      print(info.classes, 1);
    }
    return 0;
  } finally {
    project.close();
  }
}

export async function runExport(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, { values: ['project', 'format', 'image', 'run', 'out'] });
  const format = requireFlag(args, 'format');
  if (format !== 'csv' && format !== 'geojson') throw new UsageError('--format must be csv or geojson');
  const id = (name: string) => {
    const v = args.flags.get(name)?.[0];
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be an id number`);
    return Number(v);
  };
  const project = Project.open(projectPath(requireFlag(args, 'project')));
  try {
    const file = exportLabels(project, format, id('image'), id('run'));
    const out = args.flags.get('out')?.[0];
    if (out) {
      await writeFile(out, file.text);
      io.err(`wrote ${out}`);
    } else io.out(file.text.trimEnd());
    return 0;
  } finally {
    project.close();
  }
}
