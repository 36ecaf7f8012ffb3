import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SqsMessageSink } from '../../functions/adapters/sqs-sink.ts';
import { toCampaignMessage } from '../../functions/core/campaigns/message.ts';
import type { CampaignMessage } from '../../functions/core/campaigns/message.ts';

const sqs = mockClient(SQSClient);
// The mocks patch the client classes for the whole process: put them back for the next file.
afterAll(() => {
  sqs.restore();
});
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/campaigns';
const sleeps: number[] = [];

function messages(count: number, reason = 'because'): CampaignMessage[] {
  return Array.from({ length: count }, (_, index) =>
    toCampaignMessage({
      campaign: 'win_back',
      customer_id: `cust-${index}`,
      priority: 80,
      reason,
      rank_in_campaign: index + 1,
      net_revenue: 100,
      purchases: 2,
      days_since_last_purchase: 100,
      last_nps_score: null,
      segment: null,
      as_of: '2024-06-30',
    }),
  );
}

const sink = (queueUrl = QUEUE) =>
  new SqsMessageSink({ client: new SQSClient({ region: 'eu-west-1' }), queueUrl, sleep: async (ms) => void sleeps.push(ms), concurrency: 1 });

/** Answers every entry as successful unless `fail` says otherwise. */
function answer(
  input: SendMessageBatchCommandInput,
  fail: (id: string, index: number) => { SenderFault: boolean; Code: string } | undefined = () => undefined,
) {
  const Successful: { Id: string; MessageId: string; MD5OfMessageBody: string }[] = [];
  const Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
  input.Entries!.forEach((entry, index) => {
    const failure = fail(entry.Id!, index);
    if (failure) Failed.push({ Id: entry.Id!, ...failure, Message: 'nope' });
    else Successful.push({ Id: entry.Id!, MessageId: `sqs-${entry.Id}`, MD5OfMessageBody: 'x' });
  });
  return { Successful, Failed };
}

const calls = () => sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);

beforeEach(() => {
  sqs.reset();
  sleeps.length = 0;
});

describe('SQS sink', () => {
  it('sends batches of at most 10 entries with campaign and schema attributes', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => answer(input));
    const batch = messages(25);
    const outcome = await sink().send(batch);
    expect([...outcome.delivered].sort()).toEqual(batch.map((message) => message.message_id).sort());
    expect(outcome.failed).toEqual([]);
    expect(calls().map((input) => input.Entries!.length)).toEqual([10, 10, 5]);
    const entry = calls()[0]!.Entries![0]!;
    expect(entry.MessageAttributes).toEqual({
      campaign: { DataType: 'String', StringValue: 'win_back' },
      schema_version: { DataType: 'Number', StringValue: '1' },
    });
    expect(JSON.parse(entry.MessageBody!)).toEqual(batch[0]);
    expect(entry.MessageGroupId).toBeUndefined();
  });

  it('keeps each call under 1 MiB of payload', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => answer(input));
    await sink().send(messages(10, 'x'.repeat(300_000)));
    expect(calls().map((input) => input.Entries!.length)).toEqual([3, 3, 3, 1]);
  });

  it('retries only the entries a 200 response lists as Failed by the service', async () => {
    let call = 0;
    sqs
      .on(SendMessageBatchCommand)
      .callsFake((input: SendMessageBatchCommandInput) =>
        answer(input, (_id, index) => (call++ < 10 && (index === 3 || index === 7) ? { SenderFault: false, Code: 'InternalError' } : undefined)),
      );
    const batch = messages(10);
    const outcome = await sink().send(batch);
    expect(outcome.delivered).toHaveLength(10);
    expect(outcome.failed).toEqual([]);
    const [first, second] = calls();
    expect(first!.Entries).toHaveLength(10);
    expect(second!.Entries!.map((entry) => JSON.parse(entry.MessageBody!).customer_id)).toEqual(['cust-3', 'cust-7']);
    expect(sleeps).toHaveLength(1);
  });

  it('never retries a SenderFault entry and reports it', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .callsFake((input: SendMessageBatchCommandInput) =>
        answer(input, (_id, index) => (index === 0 ? { SenderFault: true, Code: 'InvalidParameterValue' } : undefined)),
      );
    const batch = messages(4);
    const outcome = await sink().send(batch);
    expect(calls()).toHaveLength(1);
    expect(outcome.delivered).toHaveLength(3);
    expect(outcome.failed).toEqual([{ messageId: batch[0]!.message_id, reason: 'InvalidParameterValue: nope' }]);
  });

  it('backs off on throttling and then succeeds', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $retryable: { throttling: true } });
    sqs
      .on(SendMessageBatchCommand)
      .rejectsOnce(throttled)
      .rejectsOnce(throttled)
      .callsFake((input: SendMessageBatchCommandInput) => answer(input));
    const outcome = await sink().send(messages(3));
    expect(outcome.delivered).toHaveLength(3);
    expect(calls()).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]!).toBeGreaterThan(sleeps[0]! / 2);
  });

  it('reports the entries of a call that failed outright as failed, and still reports the other batches delivered', async () => {
    let call = 0;
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      call += 1;
      if (call === 2) throw Object.assign(new Error('The specified queue does not exist'), { name: 'QueueDoesNotExist' });
      return answer(input);
    });
    const outcome = await sink().send(messages(25));
    expect(outcome.delivered).toHaveLength(15);
    expect(outcome.failed).toHaveLength(10);
    expect(outcome.failed[0]!.reason).toBe('QueueDoesNotExist: The specified queue does not exist');
  });

  it('stops retrying entries SQS never answers for after the attempt limit', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    const outcome = await sink().send(messages(3));
    expect(calls()).toHaveLength(6);
    expect(outcome.failed.map((failure) => failure.reason)).toEqual(Array(3).fill('no answer from SQS for this entry (after 6 attempts)'));
  });

  it('deduplicates on message_id in a FIFO queue', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => answer(input));
    const [message] = messages(1);
    await sink(`${QUEUE}.fifo`).send([message!]);
    expect(calls()[0]!.Entries![0]).toMatchObject({ MessageGroupId: expect.stringMatching(/^[0-9a-f]{64}$/), MessageDeduplicationId: message!.message_id });
  });
});
