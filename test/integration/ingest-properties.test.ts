import fc from 'fast-check';
import { describe, it } from 'vitest';
import { checkIngestAccounting, checkMetricsIgnoreSplitAndReingest, deliveries, splitIntoFiles } from '../support/ingest-properties.ts';

// Heavier runs of the same properties: test/stress/properties.test.ts (npm run test:stress).
describe('ingest, for any mix of valid, invalid, blank and repeated lines split across files in any way', () => {
  it('accounts for every line as the contract says: received = accepted + rejected, each valid event stored, each refusal kept', async () => {
    await fc.assert(
      fc.asyncProperty(splitIntoFiles(deliveries({ maxLines: 60, ids: 12 }), 4), (files) => checkIngestAccounting(files)),
      { numRuns: 100 },
    );
  }, 180_000);

  it('holds for marketing spend too', async () => {
    await fc.assert(
      fc.asyncProperty(splitIntoFiles(deliveries({ maxLines: 60, ids: 12, input: 'spend' }), 4), (files) => checkIngestAccounting(files, 'spend')),
      { numRuns: 50 },
    );
  }, 180_000);
});

describe('the tables computed from any such files', () => {
  it('are the same whether the lines came as one file or several, and do not change when every file is ingested again', async () => {
    await fc.assert(
      fc.asyncProperty(splitIntoFiles(deliveries({ maxLines: 40, ids: 10 }), 3), (files) => checkMetricsIgnoreSplitAndReingest(files)),
      {
        numRuns: 3,
      },
    );
  }, 180_000);
});
