import { handlerTools } from '../commons.ts';
import { createHash } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context, S3Event } from 'aws-lambda';
import { S3ObjectStore } from '../../adapters/aws/s3-store.ts';
import { ERASURE_REWRITE_METADATA } from '../../core/erasure/forget.ts';
import { PIPELINE_METRICS } from '../../core/metrics.ts';
import { bucketName, earliestEventDateVariable, readEnvironment } from '../../core/environment.ts';
import { EVENT_TYPES, eventTypeNamed, INPUT_NAMES } from '../../core/events/schemas.ts';
import type { EventType } from '../../core/events/schemas.ts';
import { ingestRecords } from '../../core/ingest/ingest.ts';
import { recordsFromStream } from '../../core/ingest/open-input.ts';

const environment = readEnvironment({ LAKE_BUCKET: bucketName, EARLIEST_EVENT_DATE: earliestEventDateVariable });
const { logger, metrics, traced, begin } = handlerTools('ingest-file');
const s3 = traced(new S3Client({}));
const store = new S3ObjectStore(s3, environment.LAKE_BUCKET);

/** landing/<orders|surveys|fx-rates>/<any name>: the folder says what the file holds. */
export function eventTypeOfKey(key: string): EventType | undefined {
  const [landing, folder] = key.split('/');
  return landing === 'landing' && folder !== undefined ? eventTypeNamed(folder) : undefined;
}

/**
 * A bulk file dropped under landing/<type>/ is streamed from S3 through the same ingest core
 * as the command line, whatever its size. The batch id comes from the object's key and ETag,
 * so S3 delivering the same event twice rewrites the same files instead of adding copies.
 */
export async function handler(event: S3Event, context?: Context): Promise<void> {
  begin(context);
  for (const record of event.Records) {
    const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
    const type = eventTypeOfKey(key);
    if (!type) {
      logger.warn(`ignored: not under ${EVENT_TYPES.map((each) => `landing/${INPUT_NAMES[each]}/`).join(', ')}`, { key });
      continue;
    }
    // A file an erasure rewrote without some customers was ingested when it first arrived.
    const head = await s3.send(new HeadObjectCommand({ Bucket: environment.LAKE_BUCKET, Key: key }));
    if (head?.Metadata?.[ERASURE_REWRITE_METADATA] !== undefined) {
      logger.info('skipped: rewritten by an erasure request, ingested when it first arrived', { key });
      continue;
    }
    const ingestId = `${record.eventTime.replace(/[-:.]/g, '')}-${createHash('sha256')
      .update(`${key}\u001f${record.s3.object.eTag ?? ''}`)
      .digest('hex')
      .slice(0, 12)}`;
    const result = await ingestRecords(recordsFromStream(key, await store.stream(key)), {
      eventType: type,
      source: key,
      store,
      ingestId,
      receivedAt: new Date(record.eventTime),
      earliestEventDate: environment.EARLIEST_EVENT_DATE,
    });
    logger.info('ingested file', { key, received: result.received, accepted: result.accepted, rejected: result.rejected, duplicates: result.duplicates });
    metrics.addMetric(PIPELINE_METRICS.eventsAccepted, MetricUnit.Count, result.accepted);
    metrics.addMetric(PIPELINE_METRICS.eventsRejected, MetricUnit.Count, result.rejected);
  }
  metrics.publishStoredMetrics();
}
