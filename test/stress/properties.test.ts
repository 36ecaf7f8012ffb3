import fc from 'fast-check';
import { describe, it } from 'vitest';
import { checkIngestAccounting, checkMetricsIgnoreSplitAndReingest, deliveries, splitIntoFiles } from '../support/ingest-properties.ts';

// The properties of test/integration/ingest-properties.test.ts, with far more and larger cases.
describe('ingest properties, under load', () => {
  it('account for every line of any mix, split across up to 8 files', async () => {
    await fc.assert(
      fc.asyncProperty(splitIntoFiles(deliveries({ maxLines: 400, ids: 40 }), 8), (files) => checkIngestAccounting(files)),
      { numRuns: 1000 },
    );
  });

  it('account for every line of marketing spend the same way', async () => {
    await fc.assert(
      fc.asyncProperty(splitIntoFiles(deliveries({ maxLines: 400, ids: 40, input: 'spend' }), 8), (files) => checkIngestAccounting(files, 'spend')),
      { numRuns: 200 },
    );
  });

  it('give tables that ignore the split and a second ingest of every file', async () => {
    await fc.assert(
      fc.asyncProperty(splitIntoFiles(deliveries({ maxLines: 200, ids: 30 }), 5), (files) => checkMetricsIgnoreSplitAndReingest(files)),
      {
        numRuns: 25,
      },
    );
  });
});
