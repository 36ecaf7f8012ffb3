import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * "Changing a definition means editing one place": each test changes one place (a metric's
 * threshold, a column's description) and checks that every artefact that shows or applies it
 * follows, without editing anything else. The modules are loaded afresh over the change.
 */
const DICTIONARY = '../../functions/core/dictionary/';

afterEach(() => {
  vi.doUnmock(`${DICTIONARY}thresholds.ts`);
  vi.doUnmock(`${DICTIONARY}customers.ts`);
  vi.resetModules();
});

/** A report of a made-up as_of: enough to render every headline figure and its definition. */
async function renderedReport(): Promise<string> {
  const { renderReport } = await import('../../functions/core/report/render.ts');
  const data = {
    asOf: '2024-03-31',
    generatedAt: '2024-04-01T00:00:00Z',
    headline: { customers: 10, purchases: 20, net_revenue: 200, aov: 10, repeat_purchase_rate: 0.5, mean_predicted_clv: 30 },
    periods: [],
    cohorts: [],
    cohortRevenue: [],
    channels: [],
    acquisitionByChannel: [],
    acquisitionByPeriod: [],
    referrals: [],
    nps: [{ period_start: '2024-03-01', trailing_nps: 20, trailing_window_days: 90 }],
    clvSummary: { clv_simple: 100 },
    clvModels: [],
    clvDistribution: [],
    aliveDistribution: [],
    segments: [],
    campaigns: [],
    campaignResults: [],
  };
  return renderReport(data, '');
}

describe('one place per definition', () => {
  it("a metric's threshold: moving the promoter score to 8 moves the SQL, the data tests, the docs and the report", async () => {
    vi.doMock(`${DICTIONARY}thresholds.ts`, () => ({
      NPS_CATEGORIES: { promoter: { min: 8, max: 10 }, passive: { min: 7, max: 7 }, detractor: { min: 0, max: 6 } },
    }));
    vi.resetModules();
    const { renderSql, readSql, sqlParameters } = await import('../../functions/core/jobs/sql-template.ts');
    const { defaultConfig } = await import('../../functions/core/config.ts');
    expect(renderSql(await readSql('stg_survey_responses.sql'), sqlParameters(defaultConfig, '2024-03-31'))).toContain("when score >= 8 then 'promoter'");
    const { dataTestsOf } = await import('../../functions/core/dictionary/data-tests.ts');
    const { tableDoc } = await import('../../functions/core/dictionary/index.ts');
    expect(
      dataTestsOf(tableDoc('stg_survey_responses'), '2024-03-31')
        .map((test) => test.name)
        .join('\n'),
    ).toContain('score >= 8');
    const { renderTablesDoc, renderDefinitions } = await import('../../functions/core/dictionary/render-docs.ts');
    for (const text of [renderTablesDoc(), renderDefinitions(), await renderedReport()]) expect(text).toContain('promoters score 8-10, passives 7-7');
    expect(dataTestsOf(tableDoc('customer_summary'), '2024-03-31').map((test) => test.name)).toContain('accepted_values (promoter, passive, detractor)');
  });

  it("a column's description: rewording repeat_purchase_rate rewords Glue's comment, the schemas file, the docs and the report", async () => {
    const wording = 'Customers who came back for a second purchase, as a share of all customers.';
    vi.doMock(`${DICTIONARY}customers.ts`, async (importOriginal) => {
      const original = await importOriginal<typeof import('../../functions/core/dictionary/customers.ts')>();
      const columns = original.clvSummary.columns.map((column) => (column.name === 'repeat_purchase_rate' ? { ...column, description: wording } : column));
      return { ...original, clvSummary: { ...original.clvSummary, columns } };
    });
    vi.resetModules();
    const { tableSchemasText } = await import('../../infra/table-schemas.ts');
    const { renderTablesDoc } = await import('../../functions/core/dictionary/render-docs.ts');
    for (const text of [tableSchemasText(), renderTablesDoc(), await renderedReport()]) expect(text).toContain(wording);
    // The Glue catalog, on its own in a stack: the construct that declares the tables Athena shows.
    // aws-cdk-lib is loaded once, after the change, with the catalog that uses it.
    const [{ App, Stack }, { Template }, { Key }, { Bucket }] = await Promise.all([
      import('aws-cdk-lib'),
      import('aws-cdk-lib/assertions'),
      import('aws-cdk-lib/aws-kms'),
      import('aws-cdk-lib/aws-s3'),
    ]);
    const { Catalog } = await import('../../infra/constructs/catalog.ts');
    const stack = new Stack(new App(), 'Catalog');
    const key = new Key(stack, 'Key');
    new Catalog(stack, 'Catalog', {
      bucket: new Bucket(stack, 'Lake'),
      queryResults: new Bucket(stack, 'Results'),
      key,
      bytesScannedCutoffPerQuery: 10 ** 10,
      earliestEventDate: '2000-01-01',
    });
    const glue = Object.values(Template.fromStack(stack).findResources('AWS::Glue::Table')).map((table) => JSON.stringify(table));
    const summaries = glue.filter(
      (table) => table.includes('"Name":"clv_summary"') || table.includes('"Name":"run_clv_summary"') || table.includes('"Name":"latest_clv_summary"'),
    );
    expect(summaries).toHaveLength(3);
    for (const table of summaries) expect(table).toContain(wording);
  }, 60_000);
});
