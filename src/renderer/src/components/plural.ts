// Counts in words: "1 slide", "2 slides", "1 patch", "3 patches".
const irregular: Record<string, string> = { patch: 'patches', class: 'classes', entry: 'entries' };

export function plural(n: number, singular: string, pluralForm?: string): string {
  const many = pluralForm ?? irregular[singular] ?? (/(s|x|ch|sh)$/.test(singular) ? `${singular}es` : `${singular}s`);
  return `${n.toLocaleString()} ${n === 1 ? singular : many}`;
}
