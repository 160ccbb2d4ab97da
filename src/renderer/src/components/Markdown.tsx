// A small Markdown renderer for the reports CytoTune writes itself (experiment summaries):
// headings, paragraphs, lists, tables with column alignment, code, bold, italics, links as
// text and images through a resolver. React elements only, never HTML strings, so a report
// cannot inject markup.
import type { ReactNode } from 'react';

type Align = 'left' | 'right' | 'center' | undefined;

export type Block =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; ordered: boolean; items: string[] }
  | { kind: 'table'; header: string[]; align: Align[]; rows: string[][] }
  | { kind: 'code'; text: string }
  | { kind: 'rule' };

const cells = (line: string) =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());
const isSeparator = (line: string) => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line);
const alignOf = (c: string): Align =>
  c.startsWith(':') && c.endsWith(':') ? 'center' : c.endsWith(':') ? 'right' : c.startsWith(':') ? 'left' : undefined;

export function parseMarkdown(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') {
      i++;
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      blocks.push({ kind: 'heading', level: heading[1].length, text: heading[2].replace(/\s+#+\s*$/, '') });
      i++;
    } else if (/^```/.test(line)) {
      const body: string[] = [];
      for (i++; i < lines.length && !/^```/.test(lines[i]); i++) body.push(lines[i]);
      blocks.push({ kind: 'code', text: body.join('\n') });
      i++;
    } else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      blocks.push({ kind: 'rule' });
      i++;
    } else if (line.includes('|') && i + 1 < lines.length && isSeparator(lines[i + 1])) {
      const header = cells(line);
      const align = cells(lines[i + 1]).map(alignOf);
      const rows: string[][] = [];
      for (i += 2; i < lines.length && lines[i].includes('|') && lines[i].trim() !== ''; i++) rows.push(cells(lines[i]));
      blocks.push({ kind: 'table', header, align, rows });
    } else if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const items: string[] = [];
      for (; i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i]); i++) items.push(lines[i].replace(/^\s*([-*+]|\d+[.)])\s+/, ''));
      blocks.push({ kind: 'list', ordered, items });
    } else {
      const text: string[] = [];
      for (; i < lines.length && lines[i].trim() !== '' && !/^(#{1,6}\s|```)/.test(lines[i]); i++) {
        if (lines[i].includes('|') && i + 1 < lines.length && isSeparator(lines[i + 1])) break;
        text.push(lines[i].trim());
      }
      blocks.push({ kind: 'paragraph', text: text.join(' ') });
    }
  }
  return blocks;
}

/** Where an image of the report is served from, or null when it is not one to show. */
export type ImageResolver = (src: string) => string | null;

const INLINE = /!\[([^\]]*)\]\(([^)\s]+)\)|\[([^\]]+)\]\(([^)\s]+)\)|\*\*(.+?)\*\*|`([^`]+)`|\*([^*\s](?:[^*]*[^*\s])?)\*/g;

function inline(text: string, resolve: ImageResolver, key = ''): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  let n = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const k = `${key}${n++}`;
    if (m[2] !== undefined) {
      const url = resolve(m[2]);
      out.push(url ? <img key={k} className="figure" src={url} alt={m[1]} title={m[1]} /> : <em key={k}>{m[1]}</em>);
    } else if (m[3] !== undefined) out.push(<span key={k}>{inline(m[3], resolve, k)}</span>);
    else if (m[5] !== undefined) out.push(<strong key={k}>{inline(m[5], resolve, k)}</strong>);
    else if (m[6] !== undefined) out.push(<code key={k}>{m[6]}</code>);
    else if (m[7] !== undefined) out.push(<em key={k}>{inline(m[7], resolve, k)}</em>);
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function Markdown({ text, resolveImage = () => null }: { text: string; resolveImage?: ImageResolver }) {
  return (
    <div className="markdown">
      {parseMarkdown(text).map((b, i) => {
        switch (b.kind) {
          case 'heading': {
            const H = `h${Math.min(6, b.level + 2)}` as 'h3';
            return (
              <H key={i} className={`md-h${b.level}`}>
                {inline(b.text, resolveImage)}
              </H>
            );
          }
          case 'paragraph':
            return <p key={i}>{inline(b.text, resolveImage)}</p>;
          case 'list': {
            const L = b.ordered ? 'ol' : 'ul';
            return (
              <L key={i}>
                {b.items.map((item, j) => (
                  <li key={j}>{inline(item, resolveImage)}</li>
                ))}
              </L>
            );
          }
          case 'code':
            return <pre key={i}>{b.text}</pre>;
          case 'rule':
            return <hr key={i} />;
          case 'table':
            return (
              <div key={i} className="md-table">
                <table>
                  <thead>
                    <tr>
                      {b.header.map((h, j) => (
                        <th key={j} style={{ textAlign: b.align[j] }}>
                          {inline(h, resolveImage)}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {b.rows.map((row, r) => (
                      <tr key={r}>
                        {b.header.map((_, j) => (
                          <td key={j} style={{ textAlign: b.align[j] }}>
                            {inline(row[j] ?? '', resolveImage)}
                          </td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            );
        }
      })}
    </div>
  );
}
