import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { executionGone } from '../../functions/adapters/aws/execution-status.ts';

/**
 * When the run lease of an execution is free before it expires: the execution ended (stopped,
 * timed out, failed) long enough ago that a function it started cannot still be running.
 */
const sfn = mockClient(SFNClient);
// The mocks patch the client classes for the whole process: put them back for the next file.
afterAll(() => {
  sfn.restore();
});
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:JobGraph:backfill';
const NOW = new Date('2026-12-01T12:00:00Z');
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);

describe('whether the execution holding the run lease has ended', () => {
  const errors: unknown[] = [];
  const gone = () =>
    executionGone(
      new SFNClient({ region: 'eu-west-1' }),
      16 * 60_000,
      (_holder, error) => errors.push(error),
      () => NOW,
    );
  beforeEach(() => {
    sfn.reset();
    errors.length = 0;
  });

  it('is gone 16 minutes after it stopped, timed out or failed, not before', async () => {
    for (const status of ['ABORTED', 'TIMED_OUT', 'FAILED', 'SUCCEEDED'] as const) {
      sfn.on(DescribeExecutionCommand).resolves({ status, stopDate: minutesAgo(15) });
      expect(await gone()(ARN), status).toBe(false);
      sfn.on(DescribeExecutionCommand).resolves({ status, stopDate: minutesAgo(16) });
      expect(await gone()(ARN), status).toBe(true);
    }
  });

  it('is not gone while it runs, even redriven after an old stop, nor while a redrive is pending', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', stopDate: minutesAgo(600) });
    expect(await gone()(ARN)).toBe(false);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'PENDING_REDRIVE', stopDate: minutesAgo(600) });
    expect(await gone()(ARN)).toBe(false);
  });

  it('is gone when Step Functions no longer knows it, and kept (and said why) when it cannot be asked', async () => {
    sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error('gone'), { name: 'ExecutionDoesNotExist' }));
    expect(await gone()(ARN)).toBe(true);
    sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    expect(await gone()(ARN)).toBe(false);
    expect(errors).toHaveLength(1);
  });

  it('is never said of a holder that is not an execution', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ status: 'ABORTED', stopDate: minutesAgo(600) });
    expect(await gone()('pid 12 on laptop (abc123)')).toBe(false);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });
});
