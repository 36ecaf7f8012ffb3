import { Readable } from 'node:stream';
import { CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { PutObjectCommandInput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/core/config.ts';
import { runIdFor } from '../../functions/core/jobs/run-ids.ts';
import { asOfForSchedule, MAX_RUN_DATES, parseRunRequest } from '../../functions/core/jobs/run-request.ts';
import { importHandler, lambdaEnvironment } from '../support/lambda.ts';

/**
 * What an AWS execution runs (one date, a backfill range, the daily schedule's day), and the
 * run lease its first and last states take and give back: two executions never hold the lake
 * at once, the second is told who does.
 */
const config = parseConfig({ businessTimezone: 'Europe/Berlin', earliestEventDate: '2020-01-01' });

describe('a run request', () => {
  it("is one date (published), a range of dates oldest first (not published unless asked), or the schedule's day before", () => {
    expect(parseRunRequest({ as_of: '2026-11-21' }, config)).toEqual({ dates: ['2026-11-21'], publish: true });
    expect(parseRunRequest({ as_of: '2026-11-21', publish: false }, config)).toEqual({ dates: ['2026-11-21'], publish: false });
    expect(parseRunRequest({ from: '2026-02-27', to: '2026-03-02' }, config)).toEqual({
      dates: ['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02'],
      publish: false,
    });
    expect(parseRunRequest({ from: '2026-03-01', to: '2026-03-01', publish: true }, config)).toEqual({ dates: ['2026-03-01'], publish: true });
    expect(parseRunRequest({ scheduled_time: '2024-04-01T02:00:00Z' }, config)).toEqual({ dates: ['2024-03-31'], publish: true });
    expect(asOfForSchedule('2024-04-01T23:30:00Z', 'Europe/Berlin')).toBe('2024-04-01');
  });

  it('is refused, saying why, before anything runs', () => {
    const refusal = (input: unknown) => {
      try {
        parseRunRequest(input, config);
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
      return 'accepted';
    };
    expect(refusal({})).toMatch(/^InvalidRunRequestError: input: give \{"as_of"/);
    expect(refusal('2026-11-21')).toMatch(/^InvalidRunRequestError: input: give/);
    expect(refusal({ as_of: '2026-02-30' })).toBe('InvalidRunRequestError: as_of: must be a date, YYYY-MM-DD');
    expect(refusal({ from: '2026-03-02', to: '2026-03-01' })).toBe('InvalidRunRequestError: from 2026-03-02 is after to 2026-03-01');
    expect(refusal({ from: '2026-03-01' })).toMatch(/^InvalidRunRequestError: to: /);
    expect(refusal({ as_of: '2026-03-01', to: '2026-03-02' })).toMatch(/^InvalidRunRequestError: /);
    expect(refusal({ as_of: '2019-12-31' })).toBe('InvalidRunRequestError: 2019-12-31 is before the earliest event date 2020-01-01 (earliestEventDate)');
    expect(refusal({ from: '2026-01-01', to: '2026-03-01' })).toBe('accepted');
    expect(refusal({ from: '2026-01-01', to: '2026-03-02' })).toBe(
      `InvalidRunRequestError: from 2026-01-01 to 2026-03-02 is 61 dates; one execution runs at most ${MAX_RUN_DATES}: start one per range, they run one after another`,
    );
  });

  it('gives each date of an execution a run id of its own, safe in SQL', () => {
    expect(runIdFor('backfill-october', '2026-10-01')).toBe('backfill-october-20261001');
    expect(runIdFor('x'.repeat(80), '2026-10-01')).toHaveLength(78);
  });
});

describe('the run-lock function', () => {
  // An S3 bucket in a Map that honours If-None-Match: *, as S3 does.
  const s3 = mockClient(S3Client);
  const sfn = mockClient(SFNClient);
  const objects = new Map<string, string>();
  beforeAll(() => Object.assign(process.env, lambdaEnvironment));
  afterAll(() => {
    s3.restore();
    sfn.restore();
  });
  beforeEach(() => {
    objects.clear();
    s3.reset();
    sfn.reset();
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
      Contents: [...objects.keys()].filter((key) => key.startsWith(input.Prefix)).map((Key) => ({ Key })),
    }));
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const bytes = new TextEncoder().encode(objects.get(input.Key)!);
      return { Body: Object.assign(Readable.from([bytes]), { transformToByteArray: async () => bytes }) };
    });
    s3.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      if (input.IfNoneMatch === '*' && objects.has(input.Key!))
        throw Object.assign(new Error('PreconditionFailed'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
      objects.set(input.Key!, String(input.Body));
      return {};
    });
    s3.on(DeleteObjectsCommand).resolves({});
  });

  it('lets one execution hold the lake; the next is told which one holds it until it is released', async () => {
    const { handler } = await importHandler('run-lock');
    const first = 'arn:aws:states:eu-west-1:123456789012:execution:JobGraph:backfill';
    const second = 'arn:aws:states:eu-west-1:123456789012:execution:JobGraph:daily';
    expect(await handler({ action: 'acquire', input: { from: '2026-10-01', to: '2026-10-03' }, execution: first })).toEqual({
      dates: ['2026-10-01', '2026-10-02', '2026-10-03'],
      publish: false,
      holder: first,
      lease_generation: 1,
    });
    await expect(handler({ action: 'acquire', input: { scheduled_time: '2026-10-05T02:00:00Z' }, execution: second })).rejects.toMatchObject({
      name: 'RunLockBusyError',
      message: expect.stringMatching(new RegExp(`^another run holds the lake: ${first}, since .* \\(until .* at the latest\\)$`)),
    });
    // A retried acquire of the holder (its first reply lost) still holds; a release by another changes nothing.
    await expect(handler({ action: 'acquire', input: { from: '2026-10-01', to: '2026-10-03' }, execution: first })).resolves.toMatchObject({ holder: first });
    expect(await handler({ action: 'release', execution: second })).toEqual({ released: false });
    expect(await handler({ action: 'release', execution: first })).toEqual({ released: true });
    expect(await handler({ action: 'acquire', input: { scheduled_time: '2026-10-05T02:00:00Z' }, execution: second })).toEqual({
      dates: ['2026-10-04'],
      publish: true,
      holder: second,
      lease_generation: 2,
    });
    // The lease is a conditional write, so of two racing executions S3 lets one win.
    expect(s3.commandCalls(PutObjectCommand).every((call) => call.args[0].input.IfNoneMatch === '*')).toBe(true);
  });

  it('frees the lease of an execution stopped or timed out long enough ago that nothing it started still runs', async () => {
    const { handler } = await importHandler('run-lock');
    const stopped = 'arn:aws:states:eu-west-1:123456789012:execution:JobGraph:stopped';
    const next = 'arn:aws:states:eu-west-1:123456789012:execution:JobGraph:next';
    await handler({ action: 'acquire', input: { as_of: '2026-10-01' }, execution: stopped });
    // Stopped 10 minutes ago: its compaction or promotion may still be running.
    sfn.on(DescribeExecutionCommand, { executionArn: stopped }).resolves({ status: 'ABORTED', stopDate: new Date(Date.now() - 10 * 60_000) });
    await expect(handler({ action: 'acquire', input: { as_of: '2026-10-02' }, execution: next })).rejects.toMatchObject({ name: 'RunLockBusyError' });
    sfn.on(DescribeExecutionCommand, { executionArn: stopped }).resolves({ status: 'TIMED_OUT', stopDate: new Date(Date.now() - 17 * 60_000) });
    await expect(handler({ action: 'acquire', input: { as_of: '2026-10-02' }, execution: next })).resolves.toMatchObject({ holder: next });
  });

  it('lets compaction and promotion run only in the lease generation the execution took: a redriven execution changes nothing', async () => {
    const compact = (await importHandler('compact-raw')).handler;
    const promote = (await importHandler('promote-run')).handler;
    const { handler } = await importHandler('run-lock');
    const failed = 'arn:aws:states:eu-west-1:123456789012:execution:JobGraph:failed';
    const other = 'arn:aws:states:eu-west-1:123456789012:execution:JobGraph:other';
    expect(await handler({ action: 'acquire', input: { as_of: '2026-10-01' }, execution: failed })).toMatchObject({ lease_generation: 1 });
    await expect(compact({ execution: failed, lease_generation: 1 })).resolves.toMatchObject({ results: expect.any(Array) });
    // It fails and gives the lease back; another execution takes the lake.
    await handler({ action: 'release', execution: failed });
    expect(await handler({ action: 'acquire', input: { as_of: '2026-10-02' }, execution: other })).toMatchObject({ lease_generation: 2 });
    // Redriven, the failed execution resumes past its first state: it may not promote or compact.
    await expect(promote({ as_of: '2026-10-01', run_id: 'failed-20261001', execution: failed, lease_generation: 1 })).rejects.toMatchObject({
      name: 'RunLeaseLostError',
      message: `${failed} no longer holds the run lease it took (generation 1): it was given back or expired; start a new execution`,
    });
    await expect(compact({ execution: failed, lease_generation: 1 })).rejects.toMatchObject({ name: 'RunLeaseLostError' });
    // Nor may an execution in a generation it does not hold, even when the lease is free.
    await handler({ action: 'release', execution: other });
    await expect(compact({ execution: other, lease_generation: 2 })).rejects.toMatchObject({ name: 'RunLeaseLostError' });
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
  });

  it('refuses an execution whose name cannot be a run id before it takes the lease', async () => {
    const { handler } = await importHandler('run-lock');
    await expect(
      handler({ action: 'acquire', input: { as_of: '2026-10-01' }, execution: 'arn:aws:states:eu-west-1:123456789012:execution:JobGraph:back.fill' }),
    ).rejects.toThrow(/run id .* must be letters, digits, dashes and underscores/);
    expect(objects.size).toBe(0);
  });

  it('refuses a bad input without taking the lease', async () => {
    const { handler } = await importHandler('run-lock');
    await expect(handler({ action: 'acquire', input: { from: '2026-10-03', to: '2026-10-01' }, execution: 'x' })).rejects.toMatchObject({
      name: 'InvalidRunRequestError',
    });
    expect(objects.size).toBe(0);
  });
});
