import { GLOSSARY } from './glossary.ts';
import { TABLE_DICTIONARY } from './index.ts';
import type { ColumnDoc, ColumnTest, TableDoc } from './types.ts';

/**
 * The dictionary as documentation: docs/tables.md whole, and docs/data-teams.md's list of tables
 * and its definitions, between generated-section markers. `npm run generate` writes them; a test
 * fails when a checked-in copy differs from what the dictionary gives.
 */

const LAYER_TITLES: Record<TableDoc['layer'], string> = {
  source: 'Sources: events and logs',
  staging: 'Staging: intermediate tables of a run',
  curated: 'Curated: the metric tables',
};

const code = (text: string) => `\`${text}\``;
/** Markdown table cells hold no pipes or line breaks. */
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function describeTest(test: ColumnTest): string {
  if (test.kind === 'accepted_values') return `one of ${test.values.map(code).join(', ')}`;
  if (test.min !== undefined && test.max !== undefined) return `${test.min} to ${test.max}`;
  return test.min !== undefined ? `>= ${test.min}` : `<= ${test.max}`;
}

function columnTests(column: ColumnDoc): string {
  return [column.nullWhen === undefined ? 'not null' : null, ...(column.tests ?? []).map(describeTest)].filter((text) => text !== null).join('; ');
}

function grainText(doc: TableDoc): string {
  if (doc.grain === null) return 'none: every delivery or log line is kept';
  if (doc.grain.length === 0) return 'exactly one row';
  return `${doc.grain.map(code).join(', ')}, unique`;
}

function tableSection(doc: TableDoc): string {
  const lines = [`### ${doc.name}`, '', doc.summary, '', `**One row per** ${doc.rowMeaning}. **Grain:** ${grainText(doc)}.`];
  if (doc.definition) lines.push('', doc.definition);
  if (doc.layer === 'source') {
    lines.push(
      '',
      "Runs do not test this table: its rules are the ingest's (or, for the log, the publisher's), which refuses a record that breaks them, with the reason.",
    );
  }
  lines.push('', '| column | type | unit | description | null when | tests |', '|---|---|---|---|---|---|');
  for (const column of doc.columns) {
    lines.push(
      `| ${code(column.name)} | ${column.type} | ${column.unit ?? ''} | ${cell(column.description)} | ${cell(column.nullWhen ?? '')} | ${cell(columnTests(column))} |`,
    );
  }
  if (doc.rules && doc.rules.length > 0) {
    lines.push('', 'Every row satisfies:', '');
    for (const rule of doc.rules) lines.push(`- ${code(rule.rule)}: ${rule.why}.`);
  }
  return lines.join('\n');
}

/** docs/tables.md: every table, column by column, with its tests. */
export function renderTablesDoc(): string {
  const sections: string[] = [
    '# Tables',
    '',
    '<!-- Generated from the table dictionary (functions/core/dictionary/) by `npm run generate`: edit the dictionary, not this file. -->',
    '',
    'Every table the pipeline reads or writes: what a row is, what each column means, and the tests that hold it to that meaning.',
    'The tests of every table a run writes (the curated and staging tables) run before anything of the run is published',
    '([data-teams.md, "Data tests"](data-teams.md#data-tests)): a column is never null unless its "null when" says so, the grain is unique, each value passes its column\'s',
    "tests and each row the table's rules, and `as_of` is the run date. The source tables' tests are what the ingest guarantees.",
    '',
    '## Definitions',
    '',
    ...GLOSSARY.flatMap((term) => [`**${term.term}.** ${term.definition}`, '']),
  ];
  for (const layer of ['curated', 'source', 'staging'] as const) {
    sections.push(`## ${LAYER_TITLES[layer]}`, '');
    for (const doc of TABLE_DICTIONARY.filter((entry) => entry.layer === layer)) sections.push(tableSection(doc), '');
  }
  return sections.join('\n');
}

/** docs/data-teams.md's list of the tables a data team queries, each linked to its full definition. */
function renderTableList(): string {
  const lines = ['| table | one row per | what it holds |', '|---|---|---|'];
  for (const doc of TABLE_DICTIONARY.filter((entry) => entry.layer !== 'staging')) {
    lines.push(`| [${code(doc.name)}](tables.md#${doc.name}) | ${cell(doc.rowMeaning)} | ${cell(doc.summary)} |`);
  }
  return lines.join('\n');
}

/** docs/data-teams.md's definitions: the shared terms, then each curated table's own. */
export function renderDefinitions(): string {
  const terms = GLOSSARY.map((term) => `- **${term.term}.** ${term.definition.replaceAll('\n', '\n  ')}`);
  const tables = TABLE_DICTIONARY.filter((doc) => doc.layer === 'curated' && doc.definition).map(
    (doc) => `- **${doc.name}.** ${doc.definition!.replaceAll('\n', '\n  ')}`,
  );
  return [...terms, ...tables].join('\n');
}

const marker = (name: string, edge: 'start' | 'end') => `<!-- generated:${name}:${edge} (npm run generate; edit functions/core/dictionary/) -->`;

/** Replaces the text between a generated section's markers; the markers must be there. */
function replaceGenerated(text: string, name: string, content: string): string {
  const start = marker(name, 'start');
  const end = marker(name, 'end');
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`no generated section ${name} (${start} ... ${end})`);
  return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`;
}

/** docs/data-teams.md with its generated sections brought up to date. */
export function renderDataTeamsDoc(page: string): string {
  return replaceGenerated(replaceGenerated(page, 'tables', renderTableList()), 'definitions', renderDefinitions());
}
