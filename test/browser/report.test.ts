import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderEvent } from '../support/events.ts';
import { launchBrowser, openReport } from '../support/browser.ts';
import { pipeline, temporaryDirectory, writeJsonLines } from '../support/cli.ts';

/**
 * The report of a shop with almost nothing yet, opened in a real browser: every panel without
 * data says so, nothing errors, no cell shows NaN, undefined or Infinity. The demo's full report
 * is opened the same way by test/integration/demo.test.ts, on the demo's own lake.
 */
let browser: Browser;
let root: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  browser = await launchBrowser();
  const directory = await temporaryDirectory();
  root = directory.path;
  cleanup = directory.cleanup;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await cleanup?.();
});

const open = (path: string, screenshot: string) => openReport(browser, path, screenshot);

describe('the report of a young shop', () => {
  it('renders a single cohort, no survey answers and no CLV model cleanly', async () => {
    const lake = join(root, 'young');
    const orders = await writeJsonLines(join(root, 'young.jsonl'), [
      orderEvent({ order_id: 'o1', customer_id: 'c1', occurred_at: '2024-03-02T10:00:00Z', total: 20 }),
      orderEvent({ order_id: 'o2', customer_id: 'c2', occurred_at: '2024-03-05T10:00:00Z', total: 35 }),
      orderEvent({ order_id: 'o3', customer_id: 'c1', occurred_at: '2024-03-20T10:00:00Z', total: 15 }),
    ]);
    expect((await pipeline('ingest', 'orders', orders, '--lake', lake)).code).toBe(0);
    expect((await pipeline('run', '--as-of', '2024-03-31', '--lake', lake)).code).toBe(0);
    const out = join(root, 'young.html');
    const result = await pipeline('report', '--lake', lake, '--out', out);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`report: ${out}\n`);
    const report = await open(out, 'report-young.png');
    expect(report.errors).toEqual([]);
    expect(report.heatmapRows).toBe(1);
    expect(report.empties).toMatchObject({
      retention: 'No rates yet: no period has started with active customers.',
      nps: 'No survey answers yet.',
      clv: 'No CLV model yet: it needs at least ten repeat buyers.',
      alive: 'No CLV model yet: it needs at least ten repeat buyers.',
    });
    expect(report.rendered).toEqual(expect.arrayContaining(['movement', 'revenue', 'cohortRevenue', 'channels', 'segments']));
    expect(report.campaignResultsEmpty).toEqual([expect.stringMatching(/^No campaign results yet/)]);
    expect(report.text).not.toMatch(/NaN|undefined|Infinity/);
  }, 60_000);

  it('says what to do when nothing has been computed yet', async () => {
    const result = await pipeline('report', '--lake', join(root, 'nothing'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no tables yet: run "pipeline run --as-of DATE" first/);
  });
});
