import { createHash } from 'node:crypto';
import type { SendMessageBatchCommandOutput, SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import type { CampaignMessage } from '../core/campaigns/message.ts';
import type { MessageSink, SinkOutcome } from '../core/ports.ts';

export interface SqsSinkOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** Attempts per entry for retryable failures and throttling. Default 6. */
  readonly maxAttempts?: number;
  /** First backoff delay; doubles per attempt, with jitter. Default 100 ms. */
  readonly baseDelayMs?: number;
  /** SendMessageBatch calls in flight at once. Default 16 (about 8,000 messages a second at 20 ms a call). */
  readonly concurrency?: number;
  /** Injected in tests so that backoff does not slow them down. */
  readonly sleep?: (milliseconds: number) => Promise<void>;
}

/** SQS limits for SendMessageBatch: 10 entries and 1 MiB of payload per call. */
export const SQS_MAX_BATCH_ENTRIES = 10;
export const SQS_MAX_BATCH_BYTES = 1_048_576;

// KmsThrottled is how SQS itself names a throttled KMS call for an encrypted queue.
const THROTTLING_ERRORS = new Set([
  'ThrottlingException',
  'RequestThrottled',
  'Throttling',
  'TooManyRequestsException',
  'KMSThrottlingException',
  'KmsThrottled',
]);

function isThrottling(error: unknown): boolean {
  const candidate = error as { name?: string; $retryable?: { throttling?: boolean } };
  return THROTTLING_ERRORS.has(candidate.name ?? '') || candidate.$retryable?.throttling === true;
}

const defaultSleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));

/**
 * Campaign messages to an SQS queue with SendMessageBatch. A 200 response can still list
 * Failed entries: those the service marks as its own fault are retried with backoff, those
 * marked SenderFault are not (sending the same entry again would fail the same way).
 * Throttling of the whole call is backed off and retried; a call that still fails reports its
 * entries as failed and the other batches go on. On a FIFO queue the message_id is also the
 * deduplication id, so a resend within five minutes is dropped by SQS itself.
 */
export class SqsMessageSink implements MessageSink {
  readonly name = 'sqs';
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly concurrency: number;
  private readonly sleep: (milliseconds: number) => Promise<void>;
  private readonly fifo: boolean;

  constructor(private readonly options: SqsSinkOptions) {
    this.maxAttempts = options.maxAttempts ?? 6;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.concurrency = options.concurrency ?? 16;
    this.sleep = options.sleep ?? defaultSleep;
    this.fifo = options.queueUrl.endsWith('.fifo');
  }

  async send(messages: readonly CampaignMessage[]): Promise<SinkOutcome> {
    const delivered: string[] = [];
    const failed: { messageId: string; reason: string }[] = [];
    const entries: { messageId: string; entry: SendMessageBatchRequestEntry; bytes: number }[] = [];
    for (const message of messages) {
      const entry = this.entryFor(message);
      const bytes = Buffer.byteLength(entry.MessageBody!) + attributeBytes(entry);
      if (bytes > SQS_MAX_BATCH_BYTES)
        failed.push({ messageId: message.message_id, reason: `message is ${bytes} bytes; SQS takes at most ${SQS_MAX_BATCH_BYTES}` });
      else entries.push({ messageId: message.message_id, entry, bytes });
    }
    const batches = toBatches(entries);
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        try {
          const outcome = await this.sendBatch(batch);
          delivered.push(...outcome.delivered);
          failed.push(...outcome.failed);
        } catch (error) {
          // A call that failed outright fails its own entries only: the deliveries of every
          // other batch are still reported, so they are logged and never sent twice.
          const reason = `${(error as Error).name ?? 'Error'}: ${(error as Error).message}`;
          failed.push(...batch.map((item) => ({ messageId: item.messageId, reason })));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, worker));
    return { delivered, failed };
  }

  private entryFor(message: CampaignMessage): SendMessageBatchRequestEntry {
    return {
      Id: 'placeholder',
      MessageBody: JSON.stringify(message),
      MessageAttributes: {
        campaign: { DataType: 'String', StringValue: message.campaign },
        schema_version: { DataType: 'Number', StringValue: String(message.schema_version) },
      },
      // Group ids allow 128 characters from a restricted set: a hash of the customer keeps each
      // customer's messages in order whatever their id looks like.
      ...(this.fifo ? { MessageGroupId: createHash('sha256').update(message.customer_id).digest('hex'), MessageDeduplicationId: message.message_id } : {}),
    };
  }

  /** One SendMessageBatch call, repeated for the entries that may succeed on a retry. */
  private async sendBatch(batch: readonly { messageId: string; entry: SendMessageBatchRequestEntry }[]): Promise<SinkOutcome> {
    const delivered: string[] = [];
    const failed: { messageId: string; reason: string }[] = [];
    let remaining = batch.map((item, index) => ({ ...item, id: String(index) }));
    // Loaded on use, not with the module: the command line imports this module for every
    // command, and the SDK took a tenth of a second to load (bench/HISTORY.md).
    const { SendMessageBatchCommand } = await import('@aws-sdk/client-sqs');
    for (let attempt = 1; remaining.length > 0; attempt += 1) {
      let response: SendMessageBatchCommandOutput;
      try {
        response = await this.options.client.send(
          new SendMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: remaining.map((item) => ({ ...item.entry, Id: item.id })) }),
        );
      } catch (error) {
        if (!isThrottling(error) || attempt >= this.maxAttempts) throw error;
        await this.sleep(this.backoff(attempt));
        continue;
      }
      const byId = new Map(remaining.map((item) => [item.id, item]));
      for (const success of response.Successful ?? []) {
        const item = byId.get(success.Id!);
        if (item) delivered.push(item.messageId);
        byId.delete(success.Id!);
      }
      const retry: typeof remaining = [];
      for (const failure of response.Failed ?? []) {
        const item = byId.get(failure.Id!);
        if (!item) continue;
        byId.delete(failure.Id!);
        const reason = `${failure.Code ?? 'Failed'}: ${failure.Message ?? 'no message'}`;
        if (failure.SenderFault || attempt >= this.maxAttempts)
          failed.push({ messageId: item.messageId, reason: failure.SenderFault ? reason : `${reason} (after ${attempt} attempts)` });
        else retry.push(item);
      }
      // An entry the response mentions neither way is not known to be delivered: try it again,
      // within the same attempt limit as the entries SQS failed.
      for (const item of byId.values()) {
        if (attempt >= this.maxAttempts) failed.push({ messageId: item.messageId, reason: `no answer from SQS for this entry (after ${attempt} attempts)` });
        else retry.push(item);
      }
      remaining = retry;
      if (remaining.length > 0) await this.sleep(this.backoff(attempt));
    }
    return { delivered, failed };
  }

  private backoff(attempt: number): number {
    const ceiling = this.baseDelayMs * 2 ** (attempt - 1);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }
}

function attributeBytes(entry: SendMessageBatchRequestEntry): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(value.StringValue ?? '');
  }
  return bytes;
}

/** Groups entries into batches of at most 10 entries and 1 MiB. */
function toBatches<T extends { bytes: number }>(entries: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (current.length === SQS_MAX_BATCH_ENTRIES || bytes + entry.bytes > SQS_MAX_BATCH_BYTES) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += entry.bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
