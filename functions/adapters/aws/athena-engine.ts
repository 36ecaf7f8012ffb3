import { createHash } from 'node:crypto';
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, StopQueryExecutionCommand } from '@aws-sdk/client-athena';
import type { AthenaClient, QueryExecution } from '@aws-sdk/client-athena';
import { QueryFailedError } from '../../core/errors.ts';
import type { QueryEngine, QueryResult } from '../../core/ports.ts';
import { defaultSleep, describeError, isTransient, withRetries } from './retry.ts';

/** Athena stopped the query, typically at the workgroup's bytes-scanned cutoff: nothing may be published. */
export class QueryCancelledError extends QueryFailedError {}

/** The query did not finish within timeoutMs; the engine asked Athena to stop it. */
export class QueryTimeoutError extends QueryFailedError {}

export interface AthenaEngineOptions {
  readonly client: AthenaClient;
  readonly workGroup: string;
  readonly database: string;
  /** Attempts for a query that Athena marks as retryable. Default 3. */
  readonly maxQueryAttempts?: number;
  /** First poll delay; grows to maxPollDelayMs. Defaults 500 ms and 5 s. */
  readonly pollDelayMs?: number;
  readonly maxPollDelayMs?: number;
  /** Give up waiting after this long, and stop the query. Default 30 minutes (Athena's own DML limit). */
  readonly timeoutMs?: number;
  /**
   * Epoch milliseconds by which every query must be done (a Lambda's remaining time, less what
   * it needs afterwards): one deadline for all the queries and retries of an invocation.
   */
  readonly deadline?: number;
  /**
   * Part of every ClientRequestToken, such as the Lambda request id. Tokens make a retried call
   * within one invocation reuse its execution; a later invocation must not get back a query an
   * earlier one stopped at its timeout (Athena would return the same CANCELLED execution).
   */
  readonly tokenScope?: string;
  readonly sleep?: (milliseconds: number) => Promise<void>;
}

/** What an engine needs of a Lambda invocation's context. */
export interface InvocationContext {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/**
 * An engine for one Lambda invocation: every query must be done reserveMs before the function's
 * timeout (time to finish its work, or to stop a query still running and say so), and its
 * tokens are this invocation's, so a retry never gets back a query an earlier one stopped.
 * Without a context (tests, scripts) it is a plain engine.
 */
export function engineForInvocation(options: AthenaEngineOptions, context: InvocationContext | undefined, reserveMs: number): AthenaQueryEngine {
  if (!context) return new AthenaQueryEngine(options);
  return new AthenaQueryEngine({ ...options, deadline: Date.now() + context.getRemainingTimeInMillis() - reserveMs, tokenScope: context.awsRequestId });
}

const ERROR_CATEGORY: Record<number, string> = { 1: 'system error', 2: 'user error', 3: 'other error' };

/**
 * Athena (engine v3, Trino) behind the QueryEngine port. Each query gets a ClientRequestToken
 * derived from its scope, text and attempt, so a retried call does not start a second
 * execution. States are polled with growing delays; QUEUED after RUNNING is normal and waited
 * out. FAILED carries Athena's error category and is retried only when Athena says it is
 * retryable; CANCELLED (the bytes-scanned cutoff) is final. Throttled polls and result reads
 * are backed off; a query still running at timeoutMs is stopped and reported.
 */
export class AthenaQueryEngine implements QueryEngine {
  private readonly sleep: (milliseconds: number) => Promise<void>;

  constructor(private readonly options: AthenaEngineOptions) {
    this.sleep = options.sleep ?? defaultSleep;
  }

  async execute(sql: string): Promise<void> {
    await this.run(sql);
  }

  async query(sql: string): Promise<QueryResult> {
    const id = await this.run(sql);
    const client = this.options.client;
    let columns: { name: string; type: string }[] = [];
    const rows: unknown[][] = [];
    let token: string | undefined;
    let first = true;
    do {
      // A retried page is asked for with the same token: rows are neither skipped nor repeated.
      const page = await withRetries(
        () => client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token })),
        { sleep: this.sleep },
        `Athena GetQueryResults ${id}`,
      );
      if (first) columns = (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((info) => ({ name: info.Name ?? '', type: info.Type ?? 'varchar' }));
      const data = page.ResultSet?.Rows ?? [];
      // The first row of the first page repeats the column names.
      for (const row of first ? data.slice(1) : data) rows.push((row.Data ?? []).map((cell, index) => convert(cell.VarCharValue, columns[index]?.type)));
      first = false;
      token = page.NextToken;
    } while (token);
    return { columns, rows };
  }

  close(): void {}

  /** Runs a statement to completion; returns its execution id. */
  async run(sql: string): Promise<string> {
    const maxAttempts = this.options.maxQueryAttempts ?? 3;
    for (let attempt = 1; ; attempt += 1) {
      const token = createHash('sha256')
        .update(`${this.options.tokenScope ?? ''}\u001f${sql}\u001f${attempt}`)
        .digest('hex');
      const started = await withRetries(
        () =>
          this.options.client.send(
            new StartQueryExecutionCommand({
              QueryString: sql,
              WorkGroup: this.options.workGroup,
              QueryExecutionContext: { Database: this.options.database },
              ClientRequestToken: token,
            }),
          ),
        { sleep: this.sleep },
        'Athena StartQueryExecution',
      );
      const id = started.QueryExecutionId!;
      const execution = await this.waitFor(id);
      const state = execution.Status?.State;
      if (state === 'SUCCEEDED') return id;
      const reason = execution.Status?.StateChangeReason ?? 'no reason given';
      if (state === 'CANCELLED') throw new QueryCancelledError(`Athena cancelled query ${id}: ${reason}`);
      const error = execution.Status?.AthenaError;
      const category = ERROR_CATEGORY[error?.ErrorCategory ?? 3] ?? 'error';
      if (error?.Retryable && attempt < maxAttempts) continue;
      throw new QueryFailedError(`Athena ${category} in query ${id}: ${error?.ErrorMessage ?? reason}`);
    }
  }

  private async waitFor(id: string): Promise<QueryExecution> {
    const started = Date.now();
    let delay = this.options.pollDelayMs ?? 500;
    const maxDelay = this.options.maxPollDelayMs ?? 5000;
    const giveUpAt = Math.min(started + (this.options.timeoutMs ?? 30 * 60_000), this.options.deadline ?? Number.POSITIVE_INFINITY);
    let lastState = 'unknown';
    for (;;) {
      let execution: QueryExecution | undefined;
      let pollError: unknown;
      try {
        execution = (await this.options.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution;
      } catch (error) {
        // A throttled or failed poll says nothing about the query: poll again, later.
        if (!isTransient(error)) throw error;
        pollError = error;
      }
      const state = execution?.Status?.State;
      if (state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELLED') return execution!;
      lastState = state ?? lastState;
      if (Date.now() > giveUpAt) {
        const polled = pollError === undefined ? '' : `, last poll ${describeError(pollError)}`;
        throw new QueryTimeoutError(
          `Athena query ${id} did not finish within ${giveUpAt - started} ms (last state ${lastState}${polled}); ${await this.stop(id)}`,
        );
      }
      await this.sleep(delay);
      delay = Math.min(maxDelay, delay * 2);
    }
  }

  /** Left running, a query the caller gave up on would go on scanning (and an UNLOAD on writing). */
  private async stop(id: string): Promise<string> {
    try {
      await withRetries(
        () => this.options.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })),
        { sleep: this.sleep },
        `Athena StopQueryExecution ${id}`,
      );
      return 'asked Athena to stop it';
    } catch (error) {
      return `could not stop it: ${describeError(error)}`;
    }
  }
}

const NUMERIC = /^(tinyint|smallint|integer|bigint|double|float|real|decimal)/;

function convert(value: string | undefined, type: string | undefined): unknown {
  if (value === undefined) return null;
  if (type !== undefined && NUMERIC.test(type)) return Number(value);
  if (type === 'boolean') return value === 'true';
  return value;
}
