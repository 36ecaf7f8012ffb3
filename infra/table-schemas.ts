/**
 * The tables as the Glue catalog declares them, generated from the table dictionary
 * (functions/core/dictionary/): per table its description, layer, grain and columns with their
 * types and comments, which Athena's console and DESCRIBE show. The catalog construct builds its
 * tables from this; `npm run generate` also writes it to infra/table-schemas.json, the
 * dictionary as plain JSON for tools outside this repository (a test fails when it is stale).
 * Another test runs every step on DuckDB and checks the SQL writes exactly these columns.
 */
import { writeFile } from 'node:fs/promises';
import { TABLE_DICTIONARY } from '../functions/core/dictionary/index.ts';
import type { ColumnDoc, TableDoc } from '../functions/core/dictionary/index.ts';

export const TABLE_SCHEMAS_FILE = new URL('./table-schemas.json', import.meta.url);

export type GlueColumn = { readonly name: string; readonly type: string; readonly comment: string };

export interface GlueTableSchema {
  readonly layer: TableDoc['layer'];
  readonly description: string;
  readonly grain: readonly string[] | null;
  readonly columns: readonly GlueColumn[];
}

/** Glue keeps at most 255 characters of a column comment (and 2,048 of a table description). */
export const GLUE_COMMENT_LIMIT = 255;

/** A column's comment: its description, with the unit and when it may be null. */
export function columnComment(column: ColumnDoc): string {
  const parts = [column.description];
  if (column.unit) parts.push(`Unit: ${column.unit}.`);
  if (column.nullWhen) parts.push(`Null when ${column.nullWhen}.`);
  const full = parts.join(' ');
  return full.length <= GLUE_COMMENT_LIMIT ? full : column.description;
}

export function generateTableSchemas(): Record<string, GlueTableSchema> {
  return Object.fromEntries(
    TABLE_DICTIONARY.map((doc) => [
      doc.name,
      {
        layer: doc.layer,
        description: doc.summary,
        grain: doc.grain,
        columns: doc.columns.map((column) => ({ name: column.name, type: column.type, comment: columnComment(column) })),
      },
    ]),
  );
}

export function tableSchemasText(): string {
  return `${JSON.stringify(generateTableSchemas(), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(TABLE_SCHEMAS_FILE, tableSchemasText());
  process.stdout.write(`wrote ${TABLE_SCHEMAS_FILE.pathname}\n`);
}
