import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

/**
 * The report opened in a real browser (Debian's chromium, installed by .ci/run; no browser
 * download). Screenshots go to test-output/ (git-ignored) for people to look at.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const SCREENSHOTS = new URL('../../test-output/', import.meta.url).pathname;

/** The report's charts, by canvas id. */
export const CHARTS = [
  'retention',
  'movement',
  'revenue',
  'cohortRevenue',
  'channels',
  'acquisition',
  'payback',
  'referrals',
  'nps',
  'clv',
  'alive',
  'segments',
  'campaigns',
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
  await mkdir(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Opens a report and returns what a person would notice. */
export async function openReport(browser: Browser, path: string, screenshot: string) {
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
  // innerText, not textContent: the text as a reader sees it, without what CSS hides.
  // biome-ignore lint/performance/useDomNodeTextContent: the visible text is what is checked
  const text = await page.evaluate(() => (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText);
  const heatmapRows = await page.$$eval('table.heatmap tbody tr', (rows) => rows.length);
  const campaignResults = await page.$$eval('table.results tbody tr', (rows) =>
    rows.map((row) => ({
      campaign: row.getAttribute('data-campaign'),
      verdict: row.getAttribute('data-verdict'),
      tone: row.querySelector('svg.interval')?.getAttribute('class') ?? null,
      // biome-ignore lint/performance/useDomNodeTextContent: the visible text is what is checked
      text: (row as unknown as { innerText: string }).innerText,
    })),
  );
  const campaignResultsEmpty = await page.$$eval('p.empty[data-section="campaign-results"]', (nodes) => nodes.map((node) => node.textContent));
  await page.screenshot({ path: join(SCREENSHOTS, screenshot), fullPage: true });
  await page.close();
  return { errors, charts, rendered, empties: Object.fromEntries(empties), text, heatmapRows, campaignResults, campaignResultsEmpty };
}
