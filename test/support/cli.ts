import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../functions/cli/main.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the `pipeline` command in-process, capturing its output. */
export async function pipeline(...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    interactive: false,
  });
  return { code, stdout, stderr };
}

/** A fresh temporary directory, removed by the returned cleanup. */
export async function temporaryDirectory(prefix = 'pipeline-test-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Writes JSON Lines from objects (or raw lines given as strings). */
export async function writeJsonLines(path: string, records: readonly (object | string)[]): Promise<string> {
  await writeFile(path, `${records.map((record) => (typeof record === 'string' ? record : JSON.stringify(record))).join('\n')}\n`);
  return path;
}

/** Parses `query --format csv` output into objects of strings (empty field = null). */
export function parseCsv(text: string): Record<string, string | null>[] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += char;
  }
  const [header, ...body] = rows;
  return body.map((cells) => Object.fromEntries(header!.map((name, index) => [name, cells[index] === '' ? null : cells[index]!])));
}

/** Runs a query through the command line and returns its rows. */
export async function queryCsv(lake: string, sql: string): Promise<Record<string, string | null>[]> {
  const result = await pipeline('query', sql, '--format', 'csv', '--lake', lake);
  if (result.code !== 0) throw new Error(`query failed (${result.code}): ${result.stderr}`);
  return parseCsv(result.stdout);
}
