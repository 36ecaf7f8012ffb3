import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../functions/core/events/schemas.ts';
import { CURATED_TABLES } from '../../functions/core/jobs/graph.ts';
import { Catalog } from '../../infra/constructs/catalog.ts';
import { Ingest } from '../../infra/constructs/ingest.ts';
import { NO_BUNDLING } from './no-bundling.ts';

/**
 * The earliest event date (config earliestEventDate) is where every date projection of the
 * catalog starts and what both ingest functions refuse events before: an event ingest accepts
 * is one Athena can read.
 */
describe('the earliest event date in AWS', () => {
  it('starts every date projection and reaches both ingest functions', () => {
    const stack = new Stack(new App({ context: NO_BUNDLING }), 'Earliest');
    const bucket = new Bucket(stack, 'Lake');
    const key = new Key(stack, 'Key');
    new Catalog(stack, 'Catalog', {
      bucket,
      queryResults: new Bucket(stack, 'Results'),
      key,
      bytesScannedCutoffPerQuery: 10 ** 10,
      earliestEventDate: '2015-06-01',
    });
    new Ingest(stack, 'Ingest', { bucket, key, alarms: new Topic(stack, 'Alarms'), earliestEventDate: '2015-06-01' });
    const template = Template.fromStack(stack);

    const ranges = Object.values(template.findResources('AWS::Glue::Table')).flatMap((table) =>
      Object.entries(table.Properties.TableInput.Parameters as Record<string, string>).filter(([name]) => /^projection\.\w+\.range$/.test(name)),
    );
    // Raw events of each type, rejected events, the published log and every curated table.
    expect(ranges).toHaveLength(EVENT_TYPES.length + 2 + CURATED_TABLES.length);
    for (const [name, range] of ranges) expect(range, name).toBe('2015-06-01,NOW');

    // The stack's own functions: CDK's S3-notification helper has no environment.
    const ingestFunctions = Object.values(template.findResources('AWS::Lambda::Function')).filter((fn) => fn.Properties.Environment?.Variables?.LAKE_BUCKET);
    expect(ingestFunctions).toHaveLength(2);
    for (const fn of ingestFunctions) expect(fn.Properties.Environment.Variables.EARLIEST_EVENT_DATE).toBe('2015-06-01');
  });
});
