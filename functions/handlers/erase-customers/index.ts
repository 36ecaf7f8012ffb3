import { handlerTools } from '../commons.ts';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { S3ObjectStore } from '../../adapters/aws/s3-store.ts';
import { deleteNoncurrentVersions } from '../../adapters/aws/s3-versions.ts';
import { bucketName, readEnvironment } from '../../core/environment.ts';
import { PUBLISH_LEASE } from '../../core/campaigns/publish.ts';
import { ERASED_PREFIXES, forgetCustomers } from '../../core/erasure/forget.ts';
import { parsedOrUndefined } from '../../core/erasure/mentions.ts';
import { isIdentifier } from '../../core/ingest/validate.ts';
import { RUN_LEASE } from '../../core/jobs/run-request.ts';
import { withLease } from '../../core/lake/lease.ts';

const environment = readEnvironment({ LAKE_BUCKET: bucketName });
const { logger, traced, begin } = handlerTools('erase-customers');
const client = traced(new S3Client({}));
const store = new S3ObjectStore(client, environment.LAKE_BUCKET);

/** An erasure request: the customers' ids, as the events spell them. */
export const erasureRequestSchema = z.object({
  // The rules of an id in an event: an id no event could carry is refused here, never echoed in a log.
  customer_ids: z.array(z.string().refine(isIdentifier)).min(1).max(1000),
});

/** The longest the function runs (15 minutes) and a minute more: a lease it left behind by dying is free after that. */
const LEASE_TTL_MS = 16 * 60_000;

/**
 * One erasure request per message from the erasure queue: the same erasure as `pipeline
 * forget`, through S3, holding the lake's run lease (no run of the job graph at the same time;
 * while one holds it the message comes back later). Then the run outputs under runs/ (a run's
 * intermediate tables, which hold customers; no run needs them while the lease is held) and
 * every noncurrent version under the lake's data prefixes are deleted: the bucket is
 * versioned, and an older version of a replaced object still holds the customers. The ids are
 * never logged; the request id (from the message) and the counts are.
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  begin(context);
  const failures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    const parsed = erasureRequestSchema.safeParse(parsedOrUndefined(record.body));
    if (!parsed.success) {
      // Retrying cannot help: after the queue's receive count it lands in the dead-letter queue with its alarm.
      logger.error('erasure request is not {"customer_ids": [...]}', { messageId: record.messageId, issues: parsed.error.issues.length });
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    try {
      const holder = `lambda:${context.awsRequestId}`;
      const leased = { holder, ttlMs: LEASE_TTL_MS };
      // The run lease, then the publish lease (the order a run takes them): no run, and no publish writing the log.
      const outcome = await withLease(store, RUN_LEASE, leased, () =>
        withLease(store, PUBLISH_LEASE, leased, async () => {
          const result = await forgetCustomers(store, parsed.data.customer_ids, { requestId: `sqs-${record.messageId}` });
          const runOutputs = await store.list('runs/');
          await store.delete(runOutputs);
          const versions = await deleteNoncurrentVersions(client, environment.LAKE_BUCKET, ERASED_PREFIXES);
          return { result, runOutputs: runOutputs.length, versions };
        }),
      );
      logger.info('erased customers', {
        requestId: outcome.result.request.request_id,
        customers: parsed.data.customer_ids.length,
        removed: outcome.result.request.removed,
        idsWithoutEvents: outcome.result.withoutEvents,
        runOutputsDeleted: outcome.runOutputs,
        noncurrentVersionsDeleted: outcome.versions,
      });
    } catch (error) {
      logger.error('erasure request failed; the queue delivers it again', {
        messageId: record.messageId,
        error: (error as Error).name,
        message: (error as Error).message,
      });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
}
