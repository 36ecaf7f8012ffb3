import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderEvent } from '../support/events.ts';
import { pipeline, temporaryDirectory, writeJsonLines } from '../support/cli.ts';

/**
 * The report opened in a real browser (Debian's chromium, installed by .ci/run; no browser
 * download): every chart draws, nothing errors, no cell shows NaN, undefined or Infinity.
 * Screenshots go to test-output/ (git-ignored) for people to look at.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const SCREENSHOTS = new URL('../../test-output/', import.meta.url).pathname;
const CHARTS = ['retention', 'movement', 'revenue', 'nps', 'clv', 'alive', 'segments', 'campaigns'];

let browser: Browser;
let root: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const directory = await temporaryDirectory();
  root = directory.path;
  cleanup = directory.cleanup;
  await mkdir(SCREENSHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await cleanup?.();
});

/** Opens a report and returns what a person would notice. */
async function open(path: string, screenshot: string) {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console error: ${message.text()}`);
  });
  page.on('request', (request) => {
    if (!request.url().startsWith('file:')) errors.push(`network request: ${request.url()}`);
  });
  await page.goto(`file://${path}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
  const charts = await page.evaluate(() =>
    Object.fromEntries(
      Object.entries((globalThis as unknown as { __charts: Record<string, { data: { datasets: { data: unknown[] }[] } }> }).__charts).map(([id, chart]) => [
        id,
        chart.data.datasets.reduce((points, dataset) => points + dataset.data.length, 0),
      ]),
    ),
  );
  const rendered = await page.$$eval('canvas[data-rendered="true"]', (canvases) => canvases.map((canvas) => canvas.id));
  const empties = await page.$$eval('[data-chart]', (nodes) => nodes.map((node) => [node.getAttribute('data-chart'), node.textContent]));
  const text = await page.evaluate(() => (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText);
  const heatmapRows = await page.$$eval('table.heatmap tbody tr', (rows) => rows.length);
  const campaignResults = await page.$$eval('table.results tbody tr', (rows) =>
    rows.map((row) => ({
      campaign: row.getAttribute('data-campaign'),
      verdict: row.getAttribute('data-verdict'),
      tone: row.querySelector('svg.interval')?.getAttribute('class') ?? null,
      text: (row as unknown as { innerText: string }).innerText,
    })),
  );
  const campaignResultsEmpty = await page.$$eval('p.empty[data-section="campaign-results"]', (nodes) => nodes.map((node) => node.textContent));
  await page.screenshot({ path: join(SCREENSHOTS, screenshot), fullPage: true });
  await page.close();
  return { errors, charts, rendered, empties: Object.fromEntries(empties), text, heatmapRows, campaignResults, campaignResultsEmpty };
}

describe('the report of the demo', () => {
  it('draws every chart and the cohort heatmap, offline, without errors or broken numbers', async () => {
    const lake = join(root, 'demo');
    const demo = await pipeline('demo', '--customers', '800', '--lake', lake);
    expect(demo.code, demo.stderr).toBe(0);
    const path = /report: (.+\.html)/.exec(demo.stdout)![1]!;
    const report = await open(path, 'report-demo.png');
    expect(report.errors).toEqual([]);
    expect(report.rendered.sort()).toEqual([...CHARTS].sort());
    for (const id of CHARTS) expect(report.charts[id], id).toBeGreaterThan(0);
    expect(report.heatmapRows).toBeGreaterThan(12);
    expect(report.text).not.toMatch(/NaN|undefined|Infinity/);
    for (const label of ['Customers', 'Net revenue', 'AOV', 'Retention', 'Churn', 'NPS (trailing)', 'CLV (classic)', 'Predicted CLV (mean)']) {
      expect(report.text).toContain(label.toUpperCase());
    }
    // Campaign results: every campaign against its holdout, with the customers behind each rate;
    // an interval that crosses zero is drawn grey and says there is no measurable effect.
    expect(report.text).toContain('Campaign results');
    expect(report.campaignResults.map((row) => row.campaign).sort()).toEqual(
      ['churn_risk', 'loyalty_upgrade', 'referral_ask', 'second_purchase', 'service_recovery', 'win_back'],
    );
    for (const row of report.campaignResults) {
      expect(row.text).toMatch(/of [\d,]+[\s\S]*of [\d,]+/);
      expect(row.text).toMatch(/pts/);
      const [low, high] = [...row.text.matchAll(/([+−])([\d.]+) pts to ([+−])([\d.]+) pts/g)].map((match) => [
        (match[1] === '−' ? -1 : 1) * Number(match[2]),
        (match[3] === '−' ? -1 : 1) * Number(match[4]),
      ])[0]!;
      const crossesZero = low! <= 0 && high! >= 0;
      expect(row.verdict === 'no measurable effect', row.campaign!).toBe(crossesZero);
      expect(row.tone, row.campaign!).toBe(crossesZero ? 'interval unclear' : high! < 0 ? 'interval down' : 'interval up');
    }
    expect(report.campaignResults.some((row) => row.verdict === 'no measurable effect')).toBe(true);
  }, 120_000);
});

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
    expect(report.rendered).toEqual(expect.arrayContaining(['movement', 'revenue', 'segments']));
    expect(report.campaignResultsEmpty).toEqual([expect.stringMatching(/^No campaign results yet/)]);
    expect(report.text).not.toMatch(/NaN|undefined|Infinity/);
  }, 60_000);

  it('says what to do when nothing has been computed yet', async () => {
    const result = await pipeline('report', '--lake', join(root, 'nothing'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no tables yet: run "pipeline run --as-of DATE" first/);
  });
});
