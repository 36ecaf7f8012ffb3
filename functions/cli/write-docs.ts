/**
 * Writes what is generated from the table dictionary for people: docs/tables.md and the
 * README's table list and definitions (`npm run generate`). A test fails when a checked-in copy
 * differs from what this would write.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { renderReadme, renderTablesDoc } from '../core/dictionary/render-docs.ts';

export const TABLES_DOC_FILE = new URL('../../docs/tables.md', import.meta.url);
export const README_FILE = new URL('../../README.md', import.meta.url);

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(TABLES_DOC_FILE, renderTablesDoc());
  await writeFile(README_FILE, renderReadme(await readFile(README_FILE, 'utf8')));
  process.stdout.write(`wrote ${TABLES_DOC_FILE.pathname} and the generated sections of ${README_FILE.pathname}\n`);
}
