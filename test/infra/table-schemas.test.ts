import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { TABLE_SCHEMAS_FILE, tableSchemasText } from '../../infra/table-schemas.ts';
import { CURATED_TABLES, jobGraph, outputsOf } from '../../functions/core/jobs/graph.ts';

describe('Glue table schemas', () => {
  it('are generated from the SQL and up to date (npm run schema)', async () => {
    const checkedIn = await readFile(TABLE_SCHEMAS_FILE, 'utf8');
    expect(checkedIn, 'infra/table-schemas.json is stale: run npm run schema').toBe(await tableSchemasText());
  });

  it('cover every table the job graph writes, curated ones with as_of last', async () => {
    const schemas = JSON.parse(await readFile(TABLE_SCHEMAS_FILE, 'utf8')) as Record<string, { name: string; type: string }[]>;
    expect(Object.keys(schemas).sort()).toEqual(jobGraph.flatMap(outputsOf).sort());
    for (const table of CURATED_TABLES) expect(schemas[table]!.at(-1), table).toEqual({ name: 'as_of', type: 'date' });
  });
});
