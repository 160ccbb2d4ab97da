// The SQLite SQL of the repositories and migrations, as PostgreSQL runs it. The repositories keep
// one text per statement (SQLite's); only the few constructs the two engines spell differently
// are rewritten here, each with a test (test/unit/main/pgDialect.test.ts). Anything else passes
// through unchanged, so a new repository statement that PostgreSQL refuses fails the contract
// suite's lab run, not silently.

/** What the translation needs to know of the project's tables (read once from the catalog). */
export interface TableInfo {
  /** Tables whose `id` is generated: an INSERT returns it (better-sqlite3's lastInsertRowid). */
  identity: ReadonlySet<string>;
  /** Primary-key columns per table: INSERT OR REPLACE becomes an upsert on them. */
  primaryKeys: ReadonlyMap<string, readonly string[]>;
}

/** Calls `edit` on the parts of `sql` outside quoted strings and identifiers. */
function outsideQuotes(sql: string, edit: (code: string) => string): string {
  let out = '';
  let code = '';
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i];
    if (ch === "'" || ch === '"') {
      out += edit(code);
      code = '';
      let j = i + 1;
      while (j < sql.length && !(sql[j] === ch && sql[j + 1] !== ch)) j += sql[j] === ch ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j;
    } else code += ch;
  }
  return out + edit(code);
}

/** `?` placeholders become `$1..$n`, left to right. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return outsideQuotes(sql, (code) => code.replace(/\?/g, () => `$${++n}`));
}

/** The index of the parenthesis closing the one at `open`, and the top-level comma positions. */
function closing(sql: string, open: number): { end: number; commas: number[] } {
  let depth = 0;
  const commas: number[] = [];
  for (let i = open; i < sql.length; i++) {
    if (sql[i] === '(') depth++;
    else if (sql[i] === ')' && --depth === 0) return { end: i, commas };
    else if (sql[i] === ',' && depth === 1) commas.push(i);
  }
  throw new Error(`unbalanced parentheses in: ${sql}`);
}

/** SQLite's scalar MAX(a, b, ...)/MIN(a, b, ...) are GREATEST/LEAST; the one-argument aggregates stay. */
function scalarMinMax(sql: string): string {
  const re = /\b(MAX|MIN)\s*\(/gi;
  let out = sql;
  let m: RegExpExecArray | null;
  while ((m = re.exec(out))) {
    const open = m.index + m[0].length - 1;
    if (closing(out, open).commas.length === 0) continue;
    const name = m[1].toUpperCase() === 'MAX' ? 'GREATEST' : 'LEAST';
    out = out.slice(0, m.index) + name + '(' + out.slice(open + 1);
    re.lastIndex = m.index + name.length;
  }
  return out;
}

/** json_extract(x, '$.key') is x's member `key` as text (compared with a parameter, which is text too). */
function jsonExtract(sql: string): string {
  const re = /\bjson_extract\s*\(/gi;
  let m: RegExpExecArray | null;
  let out = sql;
  while ((m = re.exec(out))) {
    const open = m.index + m[0].length - 1;
    const { end, commas } = closing(out, open);
    const target = out.slice(open + 1, commas[0]).trim();
    const path = out.slice(commas[0] + 1, end).trim();
    const key = /^'\$\.([A-Za-z_]\w*)'$/.exec(path);
    if (!key) throw new Error(`json_extract path ${path} has no PostgreSQL translation`);
    const replacement = `((${target})::json ->> '${key[1]}')`;
    out = out.slice(0, m.index) + replacement + out.slice(end + 1);
    re.lastIndex = m.index + replacement.length;
  }
  return out;
}

/** SUM(x IS NULL) counts rows in SQLite (a comparison is 0/1); PostgreSQL sums no booleans. */
const sumOfComparison = (sql: string) => sql.replace(/\bSUM\(([\w.]+ IS (?:NOT )?NULL)\)/gi, 'SUM(CASE WHEN $1 THEN 1 ELSE 0 END)');

/** PostgreSQL folds unquoted names to lower case: a camelCase alias keeps its case quoted. */
const quoteCamelAliases = (code: string) => code.replace(/\bAS\s+([a-z]+[A-Z]\w*)\b/g, 'AS "$1"');

/** INSERT OR REPLACE becomes an upsert on the table's primary key; an INSERT into a table with an id returns it. */
function inserts(sql: string, tables: TableInfo): string {
  const replace = /^\s*INSERT\s+OR\s+REPLACE\s+INTO\s+(\w+)\s*\(([^)]*)\)/i.exec(sql);
  if (replace) {
    const [, table, columnList] = replace;
    const keys = tables.primaryKeys.get(table);
    if (!keys) throw new Error(`INSERT OR REPLACE into ${table}: no primary key known`);
    const columns = columnList.split(',').map((c) => c.trim());
    const set = columns.filter((c) => !keys.includes(c)).map((c) => `${c} = EXCLUDED.${c}`);
    const rest = sql.slice(replace[0].length);
    return `INSERT INTO ${table} (${columnList})${rest} ON CONFLICT (${keys.join(', ')}) ${set.length ? `DO UPDATE SET ${set.join(', ')}` : 'DO NOTHING'}`;
  }
  const insert = /^\s*INSERT\s+INTO\s+(\w+)/i.exec(sql);
  if (insert && tables.identity.has(insert[1]) && !/\bRETURNING\b/i.test(sql)) return `${sql.trimEnd()} RETURNING id`;
  return sql;
}

/** One repository statement as PostgreSQL runs it. */
export function translateStatement(sql: string, tables: TableInfo): string {
  const code = outsideQuotes(sql, (c) => quoteCamelAliases(sumOfComparison(c.replace(/\binstr\s*\(/gi, 'strpos('))));
  return numberPlaceholders(inserts(jsonExtract(scalarMinMax(code)), tables));
}

/**
 * A migration's SQLite DDL as PostgreSQL DDL: generated integer ids, 8-byte floats (PostgreSQL's
 * REAL is 4 bytes), BYTEA for blobs. Statements with no such translation (triggers, PRAGMA,
 * SQLite's table rebuilds) are written out per migration (Migration.postgres).
 */
export function translateDdl(sql: string): string {
  return outsideQuotes(sql, (code) =>
    scalarMinMax(
      code
        .replace(/\bid INTEGER PRIMARY KEY\b/g, 'id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
        .replace(/\bREAL\b/g, 'DOUBLE PRECISION')
        .replace(/\bBLOB\b/g, 'BYTEA'),
    ),
  );
}
