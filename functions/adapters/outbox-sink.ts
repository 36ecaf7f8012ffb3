import { createHash } from 'node:crypto';
import type { CampaignMessage } from '../core/campaigns/message.ts';
import { lakeLayout } from '../core/lake/layout.ts';
import type { MessageSink, ObjectStore, SinkOutcome } from '../core/ports.ts';

/**
 * The local sink: each batch becomes one JSON Lines file under
 * outbox/campaigns/as_of=DATE/, named after the ids it holds, so re-sending the same batch
 * after a crash rewrites the same file instead of adding a copy.
 */
export class OutboxSink implements MessageSink {
  readonly name = 'outbox';

  constructor(private readonly store: ObjectStore) {}

  async send(messages: readonly CampaignMessage[]): Promise<SinkOutcome> {
    const byAsOf = new Map<string, CampaignMessage[]>();
    for (const message of messages) byAsOf.set(message.as_of, [...(byAsOf.get(message.as_of) ?? []), message]);
    for (const [asOf, batch] of byAsOf) {
      const digest = createHash('sha256');
      for (const message of batch) digest.update(message.message_id);
      const key = `${lakeLayout.outboxPartition(asOf)}part-${digest.digest('hex').slice(0, 20)}.jsonl`;
      await this.store.put(key, `${batch.map((message) => JSON.stringify(message)).join('\n')}\n`);
    }
    return { delivered: messages.map((message) => message.message_id), failed: [] };
  }
}
