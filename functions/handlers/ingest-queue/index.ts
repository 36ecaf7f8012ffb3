import { handlerTools } from '../commons.ts';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { S3ObjectStore } from '../../adapters/aws/s3-store.ts';
import { PIPELINE_METRICS } from '../../core/metrics.ts';
import { bucketName, earliestEventDateVariable, readEnvironment } from '../../core/environment.ts';
import { ingestMessages } from '../../core/ingest/ingest-messages.ts';
import type { MessageIngestResult } from '../../core/ingest/ingest-messages.ts';

const environment = readEnvironment({ LAKE_BUCKET: bucketName, EARLIEST_EVENT_DATE: earliestEventDateVariable });
const { logger, metrics, traced, begin } = handlerTools('ingest-queue');
const store = new S3ObjectStore(traced(new S3Client({})), environment.LAKE_BUCKET);
const processor = new BatchProcessor(EventType.SQS);

/**
 * Events from the ingest queue, one per message, typed by the `event_type` message attribute.
 * The whole batch is written together (one file per type, not one per event); each
 * record then reports its own outcome to the batch processor, so only records whose data could
 * not be stored come back as batch item failures. Invalid events, and repeats of an event_id
 * with other content, are stored under rejected/ and count as handled: retrying them would fail
 * the same way. When nothing could be stored the handler throws (the processor's default), so
 * the whole batch comes back and the failure shows in the function's error metric.
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  begin(context);
  let batch: Promise<MessageIngestResult> | undefined;
  const ingestBatch = () =>
    (batch ??= ingestMessages(
      event.Records.map((record) => ({ id: record.messageId, eventType: record.messageAttributes['event_type']?.stringValue, body: record.body })),
      store,
      new Date(),
      environment.EARLIEST_EVENT_DATE,
    ));
  const recordHandler = async (record: SQSRecord) => {
    const result = await ingestBatch();
    if (result.failed.has(record.messageId)) throw new Error(`could not store message ${record.messageId}`);
  };
  const response = await processPartialResponse(event, recordHandler, processor, { context });
  const result = await ingestBatch();
  logger.info('ingested batch', { records: event.Records.length, accepted: result.accepted, rejected: result.rejected, failed: result.failed.size });
  metrics.addMetric(PIPELINE_METRICS.eventsAccepted, MetricUnit.Count, result.accepted);
  metrics.addMetric(PIPELINE_METRICS.eventsRejected, MetricUnit.Count, result.rejected);
  metrics.addMetric(PIPELINE_METRICS.eventsFailed, MetricUnit.Count, result.failed.size);
  metrics.publishStoredMetrics();
  return response;
}
