import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../functions/core/events/schemas.ts';
import { GRAPH_TABLES, QUERYABLE_SOURCES, TABLE_DICTIONARY, tableDoc } from '../../functions/core/dictionary/index.ts';
import { renderDataTeamsDoc, renderTablesDoc } from '../../functions/core/dictionary/render-docs.ts';
import { UNITS } from '../../functions/core/dictionary/types.ts';
import { CURATED_TABLES, jobGraph, outputsOf } from '../../functions/core/jobs/graph.ts';
import { publishedColumns, rawColumns, rejectedColumns, SQL_TYPE_OF_KIND } from '../../functions/core/lake/raw-tables.ts';
import { DATA_TEAMS_DOC_FILE, TABLES_DOC_FILE } from '../../functions/cli/write-docs.ts';

describe('the table dictionary', () => {
  it('has one entry per table the pipeline reads or writes, in graph order after the sources', () => {
    expect(TABLE_DICTIONARY.map((doc) => doc.name)).toEqual([...QUERYABLE_SOURCES, ...jobGraph.flatMap(outputsOf)]);
    expect(TABLE_DICTIONARY.filter((doc) => doc.layer === 'curated').map((doc) => doc.name)).toEqual(CURATED_TABLES);
    expect(GRAPH_TABLES.every((table) => tableDoc(table).layer !== 'source')).toBe(true);
  });

  it.each(TABLE_DICTIONARY.map((doc) => [doc.name, doc] as const))('%s is complete and consistent', (_name, doc) => {
    const names = doc.columns.map((column) => column.name);
    expect(new Set(names).size, 'column names are unique').toBe(names.length);
    for (const key of doc.grain ?? []) {
      expect(names, `grain column ${key}`).toContain(key);
      expect(doc.columns.find((column) => column.name === key)!.nullWhen, `grain column ${key} is never null`).toBeUndefined();
    }
    if (doc.layer !== 'source') expect(doc.grain, 'tables the pipeline computes have a grain').not.toBeNull();
    if (doc.layer === 'curated') expect(names.at(-1)).toBe('as_of');
    for (const column of doc.columns) {
      expect(column.description, `${column.name} is described`).toMatch(/^\S.{8,}[.)]$/s);
      if (column.unit) expect(Object.keys(UNITS)).toContain(column.unit);
      for (const test of column.tests ?? []) {
        if (test.kind === 'range') expect(test.min !== undefined || test.max !== undefined, `${column.name}: a range has a bound`).toBe(true);
        if (test.kind === 'range' && test.min !== undefined && test.max !== undefined) expect(test.min).toBeLessThan(test.max);
      }
    }
    for (const rule of doc.rules ?? []) expect(rule.why.length, rule.rule).toBeGreaterThan(5);
  });

  it('declares the columns the ingest writes to the raw tables and the logs', () => {
    for (const type of EVENT_TYPES) {
      expect(tableDoc(type).columns.map((column) => column.name)).toEqual([...rawColumns[type].map((column) => column.name), 'dt']);
      const declared = Object.fromEntries(tableDoc(type).columns.map((column) => [column.name, column.type]));
      for (const column of rawColumns[type])
        expect(
          SQL_TYPE_OF_KIND[column.kind].replace('varchar', 'string').replace('timestamp with time zone', 'timestamp').replace('integer', 'int'),
          column.name,
        ).toBe(declared[column.name]);
    }
    expect(tableDoc('rejected_events').columns.map((column) => column.name)).toEqual([...rejectedColumns.map((column) => column.name), 'dt']);
    expect(tableDoc('published_messages').columns.map((column) => column.name)).toEqual(publishedColumns.map((column) => column.name));
  });
});

describe('the docs generated from the dictionary', () => {
  it('docs/tables.md is up to date (npm run generate)', async () => {
    expect(await readFile(TABLES_DOC_FILE, 'utf8'), 'docs/tables.md is stale: run npm run generate').toBe(renderTablesDoc());
  });

  it("docs/data-teams.md's table list and definitions are up to date (npm run generate)", async () => {
    const page = await readFile(DATA_TEAMS_DOC_FILE, 'utf8');
    expect(page, 'docs/data-teams.md is stale: run npm run generate').toBe(renderDataTeamsDoc(page));
  });

  it('show every column of every table, and every test', () => {
    const doc = renderTablesDoc();
    for (const table of TABLE_DICTIONARY) {
      expect(doc).toContain(`### ${table.name}\n`);
      for (const column of table.columns) expect(doc).toContain(`| \`${column.name}\` | ${column.type} |`);
      for (const rule of table.rules ?? []) expect(doc).toContain(rule.rule);
    }
  });
});
