import { DataTestFailedError } from '../errors.ts';
import { rowObjects } from '../ports.ts';
import type { QueryEngine } from '../ports.ts';
import type { ColumnDoc, ColumnTest, TableDoc } from './types.ts';

/**
 * The dictionary's tests as SQL, in the subset DuckDB and Athena share. Each test is a query of
 * the rows that break it (dbt's convention); one query screens every table for rows breaking
 * any test, and only when it finds some do two more count each test's failures and fetch a few
 * examples of each. The
 * local runner tests a table right after the step that writes it; in AWS the state machine's
 * "Test data" step tests every table of the run on Athena before anything is promoted. Either
 * way a failure stops the run, and its message names the table, column, test and offending rows.
 */
export interface DataTest {
  readonly table: string;
  /** The column tested, or null for a test of whole rows (grain, rules). */
  readonly column: string | null;
  /** Short name, as in the message: "not_null", "unique", "range [0, 1]", "rule: a <= b". */
  readonly name: string;
  /** A query of the failing rows, each described as one string `example`, over `from <table>`. */
  readonly failingRowsSql: string;
  /**
   * For a test of single rows, the condition a failing row meets, counted in one scan of the
   * table with the table's other row tests; tests of groups of rows (grain) count themselves.
   */
  readonly failingWhen?: string;
  /** How many failing rows the message shows; 3 unless the test says. */
  readonly examples?: number;
  /** For the test that the grain is unique, its columns. */
  readonly grain?: readonly string[];
}

/** How many failing rows a message shows, unless a test says otherwise. */
const EXAMPLES_PER_TEST = 3;

/** A table of problems shows every one, up to this many. */
const EVERY_PROBLEM = 50;

const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** "customer_id=c1, net_revenue=-5": the row's grain and the columns the test is about. */
function describeRow(columns: readonly string[]): string {
  return columns.map((column, index) => `${literal(`${index === 0 ? '' : ', '}${column}=`)} || coalesce(cast(${column} as varchar), 'null')`).join(' || ');
}

const unique = (columns: readonly string[]) => [...new Set(columns)];

function columnCondition(column: ColumnDoc, test: ColumnTest): { name: string; failing: string } {
  if (test.kind === 'accepted_values') {
    return { name: `accepted_values (${test.values.join(', ')})`, failing: `${column.name} not in (${test.values.map(literal).join(', ')})` };
  }
  const bounds = [test.min === undefined ? null : `${column.name} < ${test.min}`, test.max === undefined ? null : `${column.name} > ${test.max}`];
  return { name: `range [${test.min ?? '-inf'}, ${test.max ?? 'inf'}]`, failing: bounds.filter((bound) => bound !== null).join(' or ') };
}

/** Column names of the table that a SQL expression mentions, for describing the rows that break it. */
function columnsIn(expression: string, doc: TableDoc): string[] {
  const words = new Set(expression.match(/[a-z_][a-z0-9_]*/g) ?? []);
  return doc.columns.map((column) => column.name).filter((name) => words.has(name));
}

/**
 * Every test of a table, for a run of as_of: columns without `nullWhen` are never null, the
 * grain is unique (a one-row table holds exactly one row), each column test and row rule
 * holds, and a table with an as_of column holds only the run's date.
 */
export function dataTestsOf(doc: TableDoc, asOf: string): DataTest[] {
  const tests: DataTest[] = [];
  const grain = doc.grain ?? [];
  const rowTest = (column: string | null, name: string, columns: readonly string[], condition: string): DataTest => ({
    table: doc.name,
    column,
    name,
    failingRowsSql: `select ${describeRow(unique([...grain, ...columns]))} as example from ${doc.name} where ${condition}`,
    failingWhen: condition,
  });
  for (const column of doc.columns) {
    if (column.nullWhen === undefined) tests.push(rowTest(column.name, 'not_null', [column.name], `${column.name} is null`));
    for (const test of column.tests ?? []) {
      const { name, failing } = columnCondition(column, test);
      tests.push(rowTest(column.name, name, [column.name], failing));
    }
  }
  if (doc.grain !== null && doc.grain.length > 0) {
    tests.push({
      table: doc.name,
      column: null,
      name: `unique (${doc.grain.join(', ')})`,
      grain: doc.grain,
      failingRowsSql: `select ${describeRow(doc.grain)} || ', rows=' || cast(count(*) as varchar) as example from ${doc.name} group by ${doc.grain.join(', ')} having count(*) > 1`,
    });
  }
  if (doc.grain !== null && doc.grain.length === 0) {
    tests.push({
      table: doc.name,
      column: null,
      name: 'exactly one row',
      failingRowsSql: `select 'rows=' || cast(count(*) as varchar) as example from ${doc.name} having count(*) <> 1`,
    });
  }
  for (const rule of doc.rules ?? []) {
    tests.push(rowTest(null, `rule: ${rule.rule}`, columnsIn(rule.rule, doc), `not (${rule.rule})`));
  }
  if (doc.mustBeEmpty !== undefined) {
    tests.push({
      table: doc.name,
      column: null,
      name: doc.mustBeEmpty.test,
      failingRowsSql: `select ${doc.mustBeEmpty.describedBy} as example from ${doc.name}`,
      examples: EVERY_PROBLEM,
    });
  }
  if (doc.columns.some((column) => column.name === 'as_of')) {
    tests.push(rowTest('as_of', 'is the run date', ['as_of'], `as_of <> date '${asOf}'`));
  }
  return tests;
}

/** How a run screens its tables before counting test by test. */
export interface ScreenOptions {
  /**
   * Screen each grain on a 64-bit hash of its columns instead of the columns themselves
   * (DuckDB's `hash`, which Athena lacks). Equal grains hash alike, so a table whose hashes are
   * all distinct has no repeated grain; a collision only sends the table to the exact count,
   * which then finds nothing. On 10M-row staging tables it takes a third off the grain's
   * screen (string ids grouped as 8-byte numbers): about 1 s a table (bench/HISTORY.md).
   */
  readonly hashGrains?: boolean;
}

/**
 * The screen: one query, one row, a column per table (rows breaking any of its row tests) and
 * per test of groups of rows (its failing groups). Cheap, because a passing run needs no more:
 * one count per table instead of one per test halves the time of a run's tests on DuckDB.
 */
export function dataTestScreenQuery(tests: readonly DataTest[], options: ScreenOptions = {}): string {
  if (tests.length === 0) throw new Error('no data tests to run');
  return `select\n    ${screenCounts(tests, options)
    .map(({ sql }, index) => `${sql} as screen_${index}`)
    .join(',\n    ')}`;
}

/** The screen's counts, in column order, each with the table it screens. */
function screenCounts(tests: readonly DataTest[], options: ScreenOptions): { table: string; sql: string }[] {
  const counts: { table: string; sql: string }[] = [];
  for (const table of unique(tests.map((test) => test.table))) {
    const conditions = tests.filter((test) => test.table === table && test.failingWhen !== undefined).map((test) => `(${test.failingWhen})`);
    if (conditions.length > 0) counts.push({ table, sql: `(select count(case when ${conditions.join('\n    or ')} then 1 end) from ${table})` });
    for (const test of tests.filter((each) => each.table === table && each.failingWhen === undefined)) {
      const screened = options.hashGrains && test.grain ? hashedGrainSql(table, test.grain) : test.failingRowsSql;
      counts.push({ table, sql: `(select count(*) from (${screened}) as failing_rows)` });
    }
  }
  return counts;
}

/** The grain's hashes that occur more than once. */
function hashedGrainSql(table: string, grain: readonly string[]): string {
  return `select grain_hash from (select hash(${grain.join(', ')}) as grain_hash from ${table}) as hashed group by grain_hash having count(*) > 1`;
}

/**
 * One query, one row: column failing_<i> counts the rows that break test i. Each table is read
 * once for all its row tests; a grain test groups the table once more.
 */
export function dataTestCountQuery(tests: readonly DataTest[]): string {
  if (tests.length === 0) throw new Error('no data tests to run');
  const parts: string[] = [];
  const tables = unique(tests.map((test) => test.table));
  for (const table of tables) {
    const rowTests = tests.flatMap((test, index) => (test.table === table && test.failingWhen !== undefined ? [{ test, index }] : []));
    if (rowTests.length > 0) {
      const counts = rowTests.map(({ test, index }) => `count(case when ${test.failingWhen} then 1 end) as failing_${index}`);
      parts.push(`(select\n    ${counts.join(',\n    ')}\nfrom ${table}) as ${table}_row_tests`);
    }
    tests.forEach((test, index) => {
      if (test.table === table && test.failingWhen === undefined) {
        parts.push(`(select count(*) as failing_${index} from (${test.failingRowsSql}) as failing_rows) as ${table}_test_${index}`);
      }
    });
  }
  return `select *\nfrom ${parts.join('\ncross join ')}`;
}

/** A failing test's first examples, in a stable order. */
function examplesSql(test: DataTest, index: number): string {
  return [
    `select ${index} as test_number, example, example_number`,
    'from (',
    '    select example, row_number() over (order by example) as example_number',
    `    from (${test.failingRowsSql}) as failing_rows`,
    ') as numbered_failures',
    `where example_number <= ${test.examples ?? EXAMPLES_PER_TEST}`,
  ].join('\n');
}

/** Examples of the failing rows of the given tests (by their index in the run's list). */
export function dataTestExamplesQuery(failing: readonly { test: DataTest; index: number }[]): string {
  return `${failing.map(({ test, index }) => examplesSql(test, index)).join('\n\nunion all\n\n')}\norder by test_number, example_number`;
}

/** A failed test: what it is, how many rows break it, a few of them, and all of that in words. */
export interface DataTestFailure {
  readonly test: DataTest;
  readonly failingRows: number;
  readonly examples: readonly string[];
  readonly message: string;
}

function describeFailure(test: DataTest, failingRows: number, examples: readonly string[]): string {
  const where = test.column === null ? test.table : `${test.table}.${test.column}`;
  if (test.examples !== undefined && failingRows <= test.examples) return `${where} ${test.name}: ${examples.join('; ')}`;
  const rows = failingRows === 1 ? '1 row fails' : `${failingRows.toLocaleString('en-US')} rows fail`;
  return `${where} ${test.name}: ${rows}, e.g. ${examples.join('; ')}`;
}

/**
 * Runs tests on any engine (DuckDB, Athena) and returns the failures, in the order of the tests.
 * One query when every test passes (the screen); when something fails, two more: each test of
 * the flagged tables counted, then examples of the failing ones.
 */
export async function runDataTests(engine: QueryEngine, tests: readonly DataTest[], options: ScreenOptions = {}): Promise<DataTestFailure[]> {
  if (tests.length === 0) return [];
  const [screen] = rowObjects(await engine.query(dataTestScreenQuery(tests, options)));
  const flagged = new Set(screenCounts(tests, options).flatMap(({ table }, index) => (Number(screen?.[`screen_${index}`] ?? 0) > 0 ? [table] : [])));
  if (flagged.size === 0) return [];
  // Only the tables the screen flagged: every test of theirs, counted on its own.
  const suspects = tests.filter((test) => flagged.has(test.table));
  return countFailures(engine, suspects);
}

async function countFailures(engine: QueryEngine, tests: readonly DataTest[]): Promise<DataTestFailure[]> {
  const [counts] = rowObjects(await engine.query(dataTestCountQuery(tests)));
  const failing = tests.flatMap((test, index) => (Number(counts?.[`failing_${index}`] ?? 0) > 0 ? [{ test, index }] : []));
  if (failing.length === 0) return [];
  const examples = new Map<number, string[]>();
  for (const row of rowObjects(await engine.query(dataTestExamplesQuery(failing)))) {
    const index = Number(row['test_number']);
    examples.set(index, [...(examples.get(index) ?? []), String(row['example'])]);
  }
  return failing.map(({ test, index }) => {
    const failingRows = Number(counts![`failing_${index}`]);
    const shown = examples.get(index) ?? [];
    return { test, failingRows, examples: shown, message: describeFailure(test, failingRows, shown) };
  });
}

/** The error a run stops with: every failing test, the first one first. */
export function dataTestError(failures: readonly DataTestFailure[], asOf: string): DataTestFailedError {
  const [first, ...others] = failures.map((failure) => failure.message);
  const more = others.length === 0 ? '' : ` (and ${others.length} more: ${others.join(' | ')})`;
  return new DataTestFailedError(`data test failed for as_of ${asOf}, nothing was published: ${first}${more}`, [first!, ...others]);
}
