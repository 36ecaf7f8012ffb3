import type { QueryResult } from '../core/ports.ts';

export const OUTPUT_FORMATS = ['table', 'csv', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** RFC 4180 CSV with a header; null is an empty field; numbers at full precision. */
export function toCsv(result: QueryResult): string {
  const lines = [result.columns.map((column) => csvField(column.name)).join(',')];
  for (const row of result.rows) lines.push(row.map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

/** A JSON array of row objects. */
export function toJson(result: QueryResult): string {
  const objects = result.rows.map((row) => Object.fromEntries(result.columns.map((column, index) => [column.name, row[index] ?? null])));
  return `${JSON.stringify(objects, null, 2)}\n`;
}

// C0 and C1 controls, DEL included: in a table for people they would move the cursor, break the
// alignment or send escape sequences to the terminal; they are shown escaped instead.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
const escapeControl = (char: string) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' && !Number.isInteger(value)) return String(Number(value.toFixed(4)));
  // JSON escapes C0 controls but not DEL or C1 (U+009B opens a terminal escape too).
  return (typeof value === 'object' ? JSON.stringify(value) : String(value)).replace(CONTROL_CHARACTERS, escapeControl);
}

/** An aligned text table for people; numbers right-aligned, fractions to 4 places. */
export function toTable(result: QueryResult): string {
  const header = result.columns.map((column) => column.name);
  const body = result.rows.map((row) => row.map(cellText));
  const numeric = result.columns.map((_, index) => result.rows.every((row) => row[index] === null || typeof row[index] === 'number'));
  const widths = header.map((name, index) => Math.max(name.length, ...body.map((row) => row[index]!.length)));
  const render = (cells: string[]) =>
    cells
      .map((cell, index) => (numeric[index] ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!)))
      .join('  ')
      .trimEnd();
  const lines = [render(header), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map(render)];
  lines.push(`(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`);
  return `${lines.join('\n')}\n`;
}

export function formatResult(result: QueryResult, format: OutputFormat): string {
  switch (format) {
    case 'csv':
      return toCsv(result);
    case 'json':
      return toJson(result);
    case 'table':
      return toTable(result);
  }
}
