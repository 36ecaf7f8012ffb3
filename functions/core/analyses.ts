import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sqlDirectory } from './jobs/sql-template.ts';

/**
 * Saved analyses: named queries over the latest_<table> views that answer the questions a
 * customer-marketing team asks every week (NPS by segment, cohort pivot, CLV by NPS category,
 * campaign results...). One file each in sql/analyses/, opening with a comment: its title on the
 * first line, then what it answers. Locally `pipeline analyses NAME` runs one on DuckDB; in AWS
 * each is an Athena named query in the pipeline's workgroup.
 */
export interface Analysis {
  /** The file name without .sql: what the command line and Athena call it. */
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly sql: string;
}

const analysesDirectory = () => join(sqlDirectory(), 'analyses');

/** Parses one analysis file; its header comment is required. */
function parseAnalysis(name: string, text: string): Analysis {
  const lines = text.split('\n');
  const headerLength = lines.findIndex((line) => !line.startsWith('--'));
  const [title, ...description] = lines.slice(0, headerLength).map((line) => line.replace(/^--\s?/, '').trim());
  if (!title || description.length === 0) throw new Error(`analysis ${name}: start with "-- Title" and a comment saying what it answers`);
  return { name, title, description: description.join(' '), sql: lines.slice(headerLength).join('\n').trim() };
}

/** Every saved analysis, by name. Read synchronously: the CDK app declares them at synth time. */
export function listAnalyses(): Analysis[] {
  const files = readdirSync(analysesDirectory())
    .filter((file) => file.endsWith('.sql'))
    .sort();
  return files.map((file) => parseAnalysis(file.slice(0, -'.sql'.length), readFileSync(join(analysesDirectory(), file), 'utf8')));
}
