// The image grid's filter as the images repository takes it: a class stands for its subtree
// (filtering by "Abnormal" shows the images labelled with any of its subclasses).
import type { ImageFilter } from '../../shared/domain';
import type { ImageQuery } from '../db/repositories/images';
import type { Project } from './project';

export function imageQuery(project: Project, filter: ImageFilter): ImageQuery {
  const { classId, ...rest } = filter;
  const name = rest.name?.trim();
  const query: ImageQuery = { ...rest, name: name || undefined };
  if (classId === undefined) return query;
  const root = project.requireClass(classId);
  const classes = project.classes.all();
  const ids = [root.id];
  for (let i = 0; i < ids.length; i++) for (const c of classes) if (c.parentId === ids[i]) ids.push(c.id);
  return { ...query, classIds: ids };
}
