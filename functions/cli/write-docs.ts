/**
 * Writes what is generated from the table dictionary for people: docs/tables.md and the table
 * list and definitions of docs/data-teams.md (`npm run generate`). A test fails when a
 * checked-in copy differs from what this would write.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { renderDataTeamsDoc, renderTablesDoc } from '../core/dictionary/render-docs.ts';

export const TABLES_DOC_FILE = new URL('../../docs/tables.md', import.meta.url);
export const DATA_TEAMS_DOC_FILE = new URL('../../docs/data-teams.md', import.meta.url);

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(TABLES_DOC_FILE, renderTablesDoc());
  await writeFile(DATA_TEAMS_DOC_FILE, renderDataTeamsDoc(await readFile(DATA_TEAMS_DOC_FILE, 'utf8')));
  process.stdout.write(`wrote ${TABLES_DOC_FILE.pathname} and the generated sections of ${DATA_TEAMS_DOC_FILE.pathname}\n`);
}
