// The image grid's filter bar: a class (with its subclasses), slides or images, labelled or not,
// and part of the file name.
import type { ClassNode, ImageFilter } from '@shared/domain';

interface Props {
  classes: { node: ClassNode; level: number }[];
  filter: ImageFilter;
  onChange: (f: ImageFilter) => void;
}

export function ImageFilters({ classes, filter, onChange }: Props) {
  const set = (patch: Partial<ImageFilter>) => onChange({ ...filter, ...patch });
  const any = Object.values(filter).some((v) => v !== undefined && v !== '');
  return (
    <div className="image-filters" role="search" aria-label="Filter images">
      <select
        data-testid="filter-class"
        aria-label="Class"
        value={filter.classId ?? ''}
        onChange={(e) => set({ classId: e.target.value ? Number(e.target.value) : undefined })}
      >
        <option value="">all classes</option>
        {classes.map(({ node, level }) => (
          <option key={node.id} value={node.id}>
            {'\u00a0\u00a0'.repeat(level - 1) + node.name}
          </option>
        ))}
      </select>
      <select
        data-testid="filter-kind"
        aria-label="Kind"
        value={filter.kind ?? 'all'}
        onChange={(e) => set({ kind: e.target.value === 'all' ? undefined : (e.target.value as ImageFilter['kind']) })}
      >
        <option value="all">slides and images</option>
        <option value="slide">slides</option>
        <option value="image">images</option>
      </select>
      <select
        data-testid="filter-labelled"
        aria-label="Labelled"
        value={filter.labelled ?? 'all'}
        onChange={(e) => set({ labelled: e.target.value === 'all' ? undefined : (e.target.value as ImageFilter['labelled']) })}
      >
        <option value="all">labelled or not</option>
        <option value="labelled">labelled</option>
        <option value="unlabelled">unlabelled</option>
      </select>
      <input
        data-testid="filter-name"
        aria-label="File name"
        placeholder="file name…"
        value={filter.name ?? ''}
        onChange={(e) => set({ name: e.target.value || undefined })}
      />
      {any && (
        <button className="link" onClick={() => onChange({})}>
          clear
        </button>
      )}
    </div>
  );
}
