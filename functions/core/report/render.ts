import { askedOutcome } from '../campaigns/campaigns.ts';
import { PURCHASE_MODEL_TITLES } from '../clv/purchase-models.ts';
import type { PurchaseModelName } from '../clv/purchase-models.ts';
import { columnDoc } from '../dictionary/index.ts';
import { NPS_CATEGORY_TEXT } from '../dictionary/metric-definitions.ts';
import type { ReportData, Row } from './report-data.ts';

/**
 * The report: one self-contained HTML file (Chart.js inlined, data embedded, no network) that a
 * marketing team opens in a browser. Pure: it turns figures into markup; the caller reads the
 * tables and supplies Chart.js.
 */

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

/** JSON that is safe inside a <script> element. */
const scriptJson = (value: unknown) =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028|\u2029/g, ' ');

const number = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const percent = (value: unknown, digits = 1) => {
  const n = number(value);
  return n === null ? '–' : `${(100 * n).toFixed(digits)}%`;
};
const amount = (value: unknown) => {
  const n = number(value);
  return n === null ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
};
const count = (value: unknown) => {
  const n = number(value);
  return n === null ? '–' : Math.round(n).toLocaleString('en-US');
};
const decimal = (value: unknown, digits = 1) => {
  const n = number(value);
  return n === null ? '–' : n.toFixed(digits);
};

interface Card {
  label: string;
  value: string;
  definition: string;
}

/** The clv_model row of the purchase model behind customer_clv, if one was selected. */
const selectedPurchaseModel = (data: ReportData): Row | undefined => data.clvModels.find((model) => model['selected'] === true);

const purchaseModelTitle = (row: Row) => PURCHASE_MODEL_TITLES[row['model'] as PurchaseModelName] ?? String(row['model']);

/** A figure's definition is its column's, from the table dictionary: written once, shown here and in the catalog. */
const defined = (table: string, column: string) => columnDoc(table, column).description;

function headlineCards(data: ReportData): Card[] {
  const latest: Row = data.periods.at(-1) ?? {};
  const latestNps: Row = data.nps.at(-1) ?? {};
  const predicted = selectedPurchaseModel(data);
  const meanClv = data.clvDistribution.length > 0 ? data.headline['mean_predicted_clv'] : null;
  return [
    { label: 'Customers', value: count(data.headline['customers']), definition: defined('clv_summary', 'customers') },
    { label: 'Net revenue', value: amount(data.headline['net_revenue']), definition: defined('clv_summary', 'net_revenue') },
    { label: 'AOV', value: amount(data.headline['aov']), definition: defined('clv_summary', 'aov') },
    { label: 'Repeat-purchase rate', value: percent(data.headline['repeat_purchase_rate']), definition: defined('clv_summary', 'repeat_purchase_rate') },
    {
      label: `Retention (${String(latest['period_start'] ?? '–')})`,
      value: percent(latest['retention_rate']),
      definition: `${defined('period_metrics', 'retention_rate')} Classic (E - N) / S: ${percent(latest['retention_rate_classic'])}.`,
    },
    {
      label: 'Churn',
      value: percent(latest['churn_rate']),
      definition: `${defined('period_metrics', 'churn_rate')} Classic (S - E) / S, a net change: ${percent(latest['churn_rate_classic'])}.`,
    },
    {
      label: 'NPS (trailing)',
      value: decimal(latestNps['trailing_nps']),
      definition: `${defined('nps', 'trailing_nps')} Window: ${String(latestNps['trailing_window_days'] ?? '–')} days; ${NPS_CATEGORY_TEXT}.`,
    },
    { label: 'CLV (classic)', value: amount(data.clvSummary?.['clv_simple']), definition: defined('clv_summary', 'clv_simple') },
    {
      label: 'Predicted CLV (mean)',
      value: predicted ? amount(meanClv) : '–',
      definition: `${predicted ? purchaseModelTitle(predicted) : 'No purchase model selected'} + Gamma-Gamma, mean over customers: ${defined('customer_clv', 'predicted_clv')}`,
    },
  ];
}

/** The cohort table as a heatmap: each cell's colour follows its retention. */
function cohortHeatmap(data: ReportData): string {
  if (data.cohorts.length === 0) return '<p class="empty">No purchases yet.</p>';
  const cohorts = [...new Set(data.cohorts.map((row) => String(row['cohort_start'])))].slice(-24);
  const maxOffset = Math.min(24, Math.max(...data.cohorts.map((row) => Number(row['period_offset']))));
  const byKey = new Map(data.cohorts.map((row) => [`${String(row['cohort_start'])}|${String(row['period_offset'])}`, row]));
  const header = ['<th>Cohort</th><th>Customers</th>', ...Array.from({ length: maxOffset + 1 }, (_, k) => `<th>+${k}</th>`)].join('');
  const body = cohorts
    .map((cohort) => {
      const size = byKey.get(`${cohort}|0`)?.['cohort_size'];
      const cells = Array.from({ length: maxOffset + 1 }, (_, k) => {
        const row = byKey.get(`${cohort}|${k}`);
        if (!row) return '<td class="none"></td>';
        const rate = number(row['retention_rate']) ?? 0;
        // Offset 0 is always 100 %: scale the colour on the later offsets, which are far lower.
        const intensity = k === 0 ? 1 : Math.min(1, rate / 0.5);
        const background = `hsl(212, 70%, ${Math.round(96 - 50 * intensity)}%)`;
        const colour = intensity > 0.6 ? '#fff' : '#1b2a3a';
        return `<td style="background:${background};color:${colour}" title="${escapeHtml(`${count(row['active_customers'])} of ${count(row['cohort_size'])} customers`)}">${percent(rate, 0)}</td>`;
      }).join('');
      return `<tr><th>${escapeHtml(cohort)}</th><td class="size">${count(size)}</td>${cells}</tr>`;
    })
    .join('');
  return `<div class="scroll"><table class="heatmap"><thead><tr>${header}</tr></thead><tbody>${body}</tbody></table></div>`;
}

const signedPoints = (value: unknown) => {
  const n = number(value);
  return n === null ? '–' : `${n >= 0 ? '+' : '−'}${Math.abs(100 * n).toFixed(1)} pts`;
};

/**
 * Each campaign against its holdout, on what it asks for (a purchase, or a referral): the rate
 * of both groups with the customers behind them, the uplift drawn as an interval on one axis
 * with zero marked, and what the message added (net revenue, or new customers referred). An
 * interval that crosses zero is grey and says so: there is no measurable effect yet.
 */
function campaignResultsTable(data: ReportData): string {
  const rows = data.campaignResults;
  if (rows.length === 0) {
    return '<p class="empty" data-section="campaign-results">No campaign results yet: a send needs a complete conversion window, and its campaign a holdout.</p>';
  }
  const bounds = rows.flatMap((row) => [number(askedOutcome(row).low), number(askedOutcome(row).high)]).filter((n): n is number => n !== null);
  const low = Math.min(0, ...bounds);
  const high = Math.max(0, ...bounds);
  const pad = (high - low) * 0.05 || 0.05;
  const [from, to] = [low - pad, high + pad];
  const x = (value: number) => (100 * (value - from)) / (to - from);
  const body = rows
    .map((row) => {
      const asked = askedOutcome(row);
      const uplift = number(asked.uplift);
      const ciLow = number(asked.low);
      const ciHigh = number(asked.high);
      const measure = row['asks_for'] === 'referral' ? 'referrals' : 'purchases';
      let verdict = 'no holdout';
      let plot = '<span class="muted">no holdout to compare with</span>';
      if (uplift !== null && ciLow !== null && ciHigh !== null) {
        verdict = ciLow > 0 ? `lifts ${measure}` : ciHigh < 0 ? `lowers ${measure}` : 'no measurable effect';
        const tone = ciLow > 0 ? 'up' : ciHigh < 0 ? 'down' : 'unclear';
        const title = `${signedPoints(uplift)} (95% interval ${signedPoints(ciLow)} to ${signedPoints(ciHigh)}): ${verdict}`;
        plot =
          `<svg class="interval ${tone}" viewBox="0 0 100 12" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>` +
          `<line class="zero" x1="${x(0).toFixed(2)}" x2="${x(0).toFixed(2)}" y1="0" y2="12"></line>` +
          `<rect x="${x(ciLow).toFixed(2)}" y="4" width="${Math.max(0.4, x(ciHigh) - x(ciLow)).toFixed(2)}" height="4" rx="1"></rect>` +
          `<line class="point" x1="${x(uplift).toFixed(2)}" x2="${x(uplift).toFixed(2)}" y1="1" y2="11"></line></svg>`;
      }
      const p = number(asked.pValue);
      return (
        `<tr data-campaign="${escapeHtml(String(row['campaign']))}" data-verdict="${escapeHtml(verdict)}">` +
        `<th>${escapeHtml(String(row['campaign']).replace(/_/g, ' '))}<span class="n">asks for a ${escapeHtml(String(row['asks_for']))}</span></th>` +
        `<td>${count(row['sends'])}</td>` +
        `<td>${percent(asked.treatmentRate)}<span class="n">of ${count(row['treatment_customers'])}</span></td>` +
        `<td>${percent(asked.holdoutRate)}<span class="n">of ${count(row['holdout_customers'])}</span></td>` +
        `<td class="uplift">${signedPoints(uplift)}<span class="n">${signedPoints(ciLow)} to ${signedPoints(ciHigh)}</span></td>` +
        `<td class="plot">${plot}<span class="verdict">${escapeHtml(verdict)}${p === null ? '' : `, p = ${p.toFixed(3)}`}</span></td>` +
        `<td>${asked.incremental.unit === 'revenue' ? amount(asked.incremental.value) : `${number(asked.incremental.value)?.toFixed(1) ?? '–'}<span class="n">new customers</span>`}</td></tr>`
      );
    })
    .join('');
  const first = rows[0]!;
  const axis = `<span class="n">axis ${signedPoints(from)} to ${signedPoints(to)}; the line marks 0</span>`;
  return (
    `<p class="hint">Sends whose ${count(first['conversion_window_days'])}-day conversion window ended in the last ${count(first['results_trailing_days'])} days, pooled. ` +
    'Messaged customers are compared with the randomly held-out ones on what the campaign asks for: a purchase, or a referral (a new customer whose first purchase names them). ' +
    'The bar is the 95% interval of the uplift, and a grey bar that crosses the line at zero means no measurable effect.</p>' +
    `<div class="scroll"><table class="results" data-section="campaign-results"><thead><tr><th>Campaign</th><th>Sends</th><th>Did it, messaged</th><th>Did it, held out</th>` +
    `<th>Uplift</th><th class="plot">95% interval ${axis}</th><th>Incremental revenue (or customers referred)</th></tr></thead><tbody>${body}</tbody></table></div>`
  );
}

const STYLE = `
:root { --ink: #1b2a3a; --muted: #5b6b7b; --line: #dde3ea; --card: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0; background: #fff; }
header { padding: 24px 32px 8px; }
h1 { font-size: 22px; margin: 0 0 4px; }
.sub { color: var(--muted); margin: 0; }
main { padding: 8px 32px 40px; max-width: 1280px; }
section { margin-top: 28px; }
h2 { font-size: 17px; margin: 0 0 4px; }
.hint { color: var(--muted); margin: 0 0 12px; font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; position: relative; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; padding-right: 20px; }
.card .value { font-size: 22px; font-weight: 600; margin-top: 2px; }
.card .info { position: absolute; top: 9px; right: 10px; width: 16px; height: 16px; border: 1px solid var(--muted); border-radius: 50%; color: var(--muted); cursor: help; font: italic 600 11px/14px Georgia, serif; text-align: center; }
.card .tip { display: none; position: absolute; z-index: 2; left: 0; top: 100%; margin-top: 6px; width: 280px; background: var(--ink); color: #fff; padding: 8px 10px; border-radius: 6px; font-size: 12px; }
.card:hover .tip, .card:focus-within .tip { display: block; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 24px; }
.chart { position: relative; height: 300px; }
.scroll { overflow-x: auto; }
table.heatmap { border-collapse: collapse; font-size: 12px; }
table.heatmap th, table.heatmap td { padding: 5px 7px; text-align: right; border: 1px solid #fff; white-space: nowrap; }
table.heatmap thead th { color: var(--muted); font-weight: 600; }
table.heatmap td.size { color: var(--muted); }
table.heatmap td.none { background: #fafbfc; }
table.results { border-collapse: collapse; font-size: 13px; width: 100%; }
table.results th, table.results td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; vertical-align: middle; }
table.results th:first-child, table.results .plot { text-align: left; }
table.results thead th { color: var(--muted); font-weight: 600; }
table.results .n { display: block; color: var(--muted); font-size: 11px; }
table.results td.plot { width: 34%; min-width: 220px; }
svg.interval { width: 100%; height: 18px; display: block; }
svg.interval .zero { stroke: var(--muted); stroke-width: 1.2; vector-effect: non-scaling-stroke; }
svg.interval rect { fill: #9aa7b4; }
svg.interval .point { stroke: var(--ink); stroke-width: 2.5; vector-effect: non-scaling-stroke; }
svg.interval.up rect { fill: #2e9d63; }
svg.interval.down rect { fill: #c8423b; }
svg.interval.unclear rect { fill: #c9d1da; }
.verdict { display: block; color: var(--muted); font-size: 11px; }
.muted { color: var(--muted); }
.empty { color: var(--muted); background: var(--card); border: 1px dashed var(--line); border-radius: 8px; padding: 24px; text-align: center; }
footer { color: var(--muted); font-size: 12px; padding: 0 32px 24px; }
`;

/** Charts are drawn in the browser from the embedded figures; each canvas says when it is done. */
const CHART_SCRIPT = `
const DATA = JSON.parse(document.getElementById('report-data').textContent);
const pct = (v) => v == null ? '–' : (100 * v).toFixed(1) + '%';
const money = (v) => v == null ? '–' : Number(v).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const whole = (v) => v == null ? '–' : Math.round(v).toLocaleString('en-US');
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const colours = { blue: '#2f6db5', lightBlue: '#9cc0ea', green: '#2e9d63', orange: '#e08a2c', red: '#c8423b', grey: '#9aa7b4', purple: '#7a5cc2' };
window.__charts = {};
function draw(id, config, empty) {
  const canvas = document.getElementById(id);
  if (!canvas) return;
  if (empty) {
    canvas.parentElement.outerHTML = '<p class="empty" data-chart="' + id + '">' + empty + '</p>';
    return;
  }
  config.options = config.options || {};
  config.options.plugins = Object.assign({ legend: { position: 'bottom' } }, config.options.plugins || {});
  window.__charts[id] = new Chart(canvas, config);
  canvas.dataset.rendered = 'true';
}
function axis(title, format, extra) {
  // Counts get whole-number ticks only.
  const ticks = format === whole ? { precision: 0, callback: (v) => format(v) } : { callback: (v) => format(v) };
  return Object.assign({ title: { display: true, text: title }, ticks, grid: { color: '#eef1f4' } }, extra || {});
}
const tooltip = (format) => ({ callbacks: { label: (c) => c.dataset.label + ': ' + format(c.parsed.y) } });
const periods = DATA.periods.map((p) => p.period_start);
draw('retention', {
  type: 'line',
  data: { labels: periods, datasets: [
    { label: 'Retention', data: DATA.periods.map((p) => p.retention_rate), borderColor: colours.blue, backgroundColor: colours.blue },
    { label: 'Retention, classic (E - N) / S', data: DATA.periods.map((p) => p.retention_rate_classic), borderColor: colours.lightBlue, backgroundColor: colours.lightBlue, borderDash: [5, 4] },
    { label: 'Churn', data: DATA.periods.map((p) => p.churn_rate), borderColor: colours.red, backgroundColor: colours.red },
    { label: 'Churn, classic (S - E) / S', data: DATA.periods.map((p) => p.churn_rate_classic), borderColor: colours.orange, backgroundColor: colours.orange, borderDash: [5, 4] },
  ] },
  options: { scales: { x: axis('Period', (v, i) => periods[v] ?? v), y: axis('Share of starting base', pct) }, plugins: { tooltip: tooltip(pct) }, spanGaps: true },
}, DATA.periods.length === 0 ? 'No purchases yet.' : DATA.periods.every((p) => p.retention_rate == null) ? 'No rates yet: no period has started with active customers.' : null);
draw('movement', {
  type: 'bar',
  data: { labels: periods, datasets: [
    { label: 'New', data: DATA.periods.map((p) => p.new_customers), backgroundColor: colours.green, stack: 'in' },
    { label: 'Reactivated', data: DATA.periods.map((p) => p.reactivated_customers), backgroundColor: colours.lightBlue, stack: 'in' },
    { label: 'Retained', data: DATA.periods.map((p) => p.retained_customers), backgroundColor: colours.blue, stack: 'in' },
    { label: 'Churned', data: DATA.periods.map((p) => -p.churned_customers), backgroundColor: colours.red, stack: 'in' },
  ] },
  options: { scales: { x: axis('Period', (v) => periods[v] ?? v, { stacked: true }), y: axis('Customers', whole, { stacked: true }) }, plugins: { tooltip: tooltip((v) => whole(Math.abs(v))) } },
}, DATA.periods.length === 0 ? 'No purchases yet.' : null);
draw('revenue', {
  type: 'bar',
  data: { labels: periods, datasets: [
    { label: 'Net revenue', data: DATA.periods.map((p) => p.net_revenue), backgroundColor: colours.blue, yAxisID: 'y' },
    { label: 'AOV', data: DATA.periods.map((p) => p.aov), type: 'line', borderColor: colours.orange, backgroundColor: colours.orange, yAxisID: 'aov' },
  ] },
  options: { scales: { x: axis('Period', (v) => periods[v] ?? v), y: axis('Net revenue', money), aov: axis('Average order value', money, { position: 'right', grid: { drawOnChartArea: false } }) }, plugins: { tooltip: tooltip(money) }, spanGaps: true },
}, DATA.periods.length === 0 ? 'No purchases yet.' : null);
// At most eight cohorts (a line each), spread over the history back from the latest, so that
// old curves show how far a cohort goes and new ones how they start.
const allRevenueCohorts = [...new Set(DATA.cohortRevenue.map((c) => c.cohort_start))];
const cohortStep = Math.ceil(allRevenueCohorts.length / 8);
const revenueCohorts = allRevenueCohorts.filter((_, i) => (allRevenueCohorts.length - 1 - i) % cohortStep === 0);
const maxOffset = Math.max(0, ...DATA.cohortRevenue.filter((c) => revenueCohorts.includes(c.cohort_start)).map((c) => c.period_offset));
const offsets = Array.from({ length: maxOffset + 1 }, (_, k) => k);
const cohortPalette = ['#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'];
draw('cohortRevenue', {
  type: 'line',
  data: { labels: offsets, datasets: revenueCohorts.map((cohort, i) => {
    const points = DATA.cohortRevenue.filter((c) => c.cohort_start === cohort);
    const colour = cohortPalette[cohortPalette.length - revenueCohorts.length + i];
    const at = (k) => points.find((c) => c.period_offset === k) || {};
    // A period not over yet (it holds as_of) is drawn hollow: its revenue is still coming in.
    return { label: cohort + ' (' + whole(points[0].cohort_size) + ')', data: offsets.map((k) => at(k).cumulative_revenue_per_customer ?? null), borderColor: colour, backgroundColor: colour, pointBackgroundColor: offsets.map((k) => (at(k).is_complete === false ? '#fff' : colour)) };
  }) },
  options: { scales: { x: axis('Periods since the first purchase', (v) => offsets[v] ?? v), y: axis('Net revenue per customer, cumulated', money) }, plugins: { tooltip: tooltip(money) } },
}, DATA.cohortRevenue.length === 0 ? 'No purchases yet.' : null);
const channels = DATA.channels.map((c) => c.acquisition_channel + ' (' + whole(c.customers_acquired) + ')');
draw('channels', {
  type: 'bar',
  data: { labels: channels, datasets: [
    { label: 'Net revenue per customer, 90 days', data: DATA.channels.map((c) => c.net_revenue_per_customer_90d), backgroundColor: colours.lightBlue, yAxisID: 'y' },
    { label: '180 days', data: DATA.channels.map((c) => c.net_revenue_per_customer_180d), backgroundColor: colours.blue, yAxisID: 'y' },
    { label: '365 days', data: DATA.channels.map((c) => c.net_revenue_per_customer_365d), backgroundColor: '#08306b', yAxisID: 'y' },
    { label: 'Mean predicted CLV', data: DATA.channels.map((c) => c.mean_predicted_clv), backgroundColor: colours.orange, yAxisID: 'y' },
    { label: 'Repeat-purchase rate', data: DATA.channels.map((c) => c.repeat_purchase_rate), type: 'line', borderColor: colours.green, backgroundColor: colours.green, yAxisID: 'rate' },
  ] },
  options: { scales: { x: axis('Acquisition channel (customers)', (v) => channels[v] ?? v), y: axis('Net revenue per customer', money), rate: axis('Repeat-purchase rate', pct, { position: 'right', min: 0, grid: { drawOnChartArea: false } }) } },
}, DATA.channels.length === 0 ? 'No customers yet.' : null);
const acquisitionChannels = DATA.acquisitionByChannel.map((c) => c.acquisition_channel + ' (' + whole(c.new_customers) + ')');
const ratio = (v) => (v == null ? '' : Number(v).toFixed(1) + 'x');
draw('acquisition', {
  type: 'bar',
  data: { labels: acquisitionChannels, datasets: [
    { label: 'CAC', data: DATA.acquisitionByChannel.map((c) => c.cac), backgroundColor: colours.blue, yAxisID: 'y' },
    { label: 'LTV:CAC, predicted CLV', data: DATA.acquisitionByChannel.map((c) => (c.cac ? (c.mean_predicted_clv ?? null) / c.cac : null)), type: 'line', borderColor: colours.orange, backgroundColor: colours.orange, yAxisID: 'ratio' },
    { label: 'LTV:CAC, classic CLV', data: DATA.acquisitionByChannel.map((c) => (c.cac ? (c.mean_classic_clv ?? null) / c.cac : null)), type: 'line', borderColor: colours.purple, backgroundColor: colours.purple, borderDash: [5, 4], yAxisID: 'ratio' },
  ] },
  options: { scales: { x: axis('Acquisition channel (customers acquired)', (v) => acquisitionChannels[v] ?? v), y: axis('Customer acquisition cost', money), ratio: axis('LTV:CAC', ratio, { position: 'right', min: 0, grid: { drawOnChartArea: false } }) } },
}, DATA.acquisitionByChannel.length === 0 ? 'No spend yet: ingest it with pipeline ingest spend.' : null);
const acquisitionPeriods = DATA.acquisitionByPeriod.map((p) => p.period_start);
draw('payback', {
  type: 'bar',
  data: { labels: acquisitionPeriods, datasets: [
    { label: 'CAC, all channels', data: DATA.acquisitionByPeriod.map((p) => p.cac), backgroundColor: colours.lightBlue, yAxisID: 'y' },
    { label: 'Payback days', data: DATA.acquisitionByPeriod.map((p) => p.payback_days), type: 'line', borderColor: colours.green, backgroundColor: colours.green, yAxisID: 'days', spanGaps: false },
  ] },
  options: { scales: { x: axis('Period acquired', (v) => acquisitionPeriods[v] ?? v), y: axis('Customer acquisition cost', money), days: axis('Days to pay back the spend', whole, { position: 'right', min: 0, grid: { drawOnChartArea: false } }) } },
}, DATA.acquisitionByPeriod.every((p) => p.spend == null) ? 'No spend yet: ingest it with pipeline ingest spend.' : null);
const referralPeriods = DATA.referrals.map((p) => p.period_start);
draw('referrals', {
  type: 'bar',
  data: { labels: referralPeriods, datasets: [
    { label: 'Referred new customers', data: DATA.referrals.map((p) => p.referred_new_customers), backgroundColor: colours.green, yAxisID: 'y' },
    { label: 'Referral rate', data: DATA.referrals.map((p) => p.referral_rate), type: 'line', borderColor: colours.purple, backgroundColor: colours.purple, yAxisID: 'rate' },
  ] },
  options: { scales: { x: axis('Period', (v) => referralPeriods[v] ?? v), y: axis('Customers', whole), rate: axis('Share of new customers referred', pct, { position: 'right', min: 0, grid: { drawOnChartArea: false } }) } },
}, DATA.referrals.length === 0 ? 'No purchases yet.' : DATA.referrals.every((p) => !p.referred_new_customers) ? 'No referrals yet: orders name their referrer in referred_by.' : null);
const npsPeriods = DATA.nps.map((p) => p.period_start);
draw('nps', {
  type: 'bar',
  data: { labels: npsPeriods, datasets: [
    { label: 'Promoters (9-10)', data: DATA.nps.map((p) => p.promoters), backgroundColor: colours.green, stack: 'answers', yAxisID: 'y' },
    { label: 'Passives (7-8)', data: DATA.nps.map((p) => p.passives), backgroundColor: colours.grey, stack: 'answers', yAxisID: 'y' },
    { label: 'Detractors (0-6)', data: DATA.nps.map((p) => p.detractors), backgroundColor: colours.red, stack: 'answers', yAxisID: 'y' },
    { label: 'NPS', data: DATA.nps.map((p) => p.nps), type: 'line', borderColor: colours.purple, backgroundColor: colours.purple, yAxisID: 'score' },
  ] },
  options: { scales: { x: axis('Period', (v) => npsPeriods[v] ?? v, { stacked: true }), y: axis('Customers answering', whole, { stacked: true }), score: axis('NPS', (v) => Number(v).toFixed(0), { position: 'right', min: -100, max: 100, grid: { drawOnChartArea: false } }) }, spanGaps: true },
}, DATA.nps.length === 0 ? 'No survey answers yet.' : null);
const clvTop = DATA.clvDistribution.length ? DATA.clvDistribution[0].top : 0;
const clvLabels = Array.from({ length: 20 }, (_, i) => money(clvTop * i / 20) + '–' + money(clvTop * (i + 1) / 20));
draw('clv', {
  type: 'bar',
  data: { labels: clvLabels, datasets: [{ label: 'Customers', data: clvLabels.map((_, i) => (DATA.clvDistribution.find((b) => b.bucket === i) || { customers: 0 }).customers), backgroundColor: colours.blue }] },
  options: { scales: { x: axis('Predicted CLV', (v) => clvLabels[v] ?? v), y: axis('Customers', whole) }, plugins: { legend: { display: false } } },
}, DATA.clvDistribution.length === 0 ? DATA.clvEmpty : null);
const aliveLabels = Array.from({ length: 10 }, (_, i) => (i * 10) + '–' + ((i + 1) * 10) + '%');
draw('alive', {
  type: 'bar',
  data: { labels: aliveLabels, datasets: [{ label: 'Customers', data: aliveLabels.map((_, i) => (DATA.aliveDistribution.find((b) => b.bucket === i) || { customers: 0 }).customers), backgroundColor: colours.green }] },
  options: { scales: { x: axis('P(alive)', (v) => aliveLabels[v] ?? v), y: axis('Customers', whole) }, plugins: { legend: { display: false } } },
}, DATA.aliveDistribution.length === 0 ? DATA.clvEmpty : null);
const segments = DATA.segments.map((s) => s.segment.replace(/_/g, ' '));
draw('segments', {
  type: 'bar',
  data: { labels: segments, datasets: [
    { label: 'Customers', data: DATA.segments.map((s) => s.customers), backgroundColor: colours.blue, yAxisID: 'y' },
    { label: 'Net revenue', data: DATA.segments.map((s) => s.net_revenue), backgroundColor: colours.orange, yAxisID: 'revenue' },
  ] },
  options: { scales: { x: axis('RFM segment', (v) => segments[v] ?? v), y: axis('Customers', whole), revenue: axis('Net revenue', money, { position: 'right', grid: { drawOnChartArea: false } }) } },
}, DATA.segments.length === 0 ? 'No customers yet.' : null);
const campaigns = DATA.campaigns.map((c) => c.campaign.replace(/_/g, ' '));
draw('campaigns', {
  type: 'bar',
  data: { labels: campaigns, datasets: [{ label: 'Customers', data: DATA.campaigns.map((c) => c.customers), backgroundColor: colours.purple }] },
  options: { indexAxis: 'y', scales: { x: axis('Customers in the audience', whole), y: axis('Campaign (highest priority first)', (v) => campaigns[v] ?? v) }, plugins: { legend: { display: false } } },
}, DATA.campaigns.length === 0 ? 'No campaign audience for this date.' : null);
document.body.dataset.ready = 'true';
`;

/** Why a CLV chart is empty: too little data to fit, no fit that converged, or no order value. */
function noPredictionsReason(data: ReportData): string {
  if (!data.clvModels.some((model) => model['r'] !== null && model['r'] !== undefined)) return 'No CLV model yet: it needs at least ten repeat buyers.';
  if (!selectedPurchaseModel(data)) return 'No purchase model converged on this data: see the note column of clv_model.';
  return 'No predicted CLV: the spend model gives no order value here (see the note column of clv_model).';
}

function aliveHint(data: ReportData): string {
  const selected = selectedPurchaseModel(data);
  const model = selected ? purchaseModelTitle(selected) : 'the selected purchase model (none is selected: no fit converged)';
  return `Probability that a customer is still active, from ${model}. Chosen by clv.purchaseModel; "auto" takes the converged model with the highest log-likelihood.`;
}

const chartBlock = (id: string, title: string, hint: string) =>
  `<section><h2>${escapeHtml(title)}</h2><p class="hint">${escapeHtml(hint)}</p><div class="chart"><canvas id="${id}" role="img" aria-label="${escapeHtml(title)}"></canvas></div></section>`;

export function renderReport(data: ReportData, chartJsSource: string): string {
  const cards = headlineCards(data)
    .map(
      (card) =>
        `<div class="card" tabindex="0"><div class="label">${escapeHtml(card.label)}</div><div class="value">${escapeHtml(card.value)}</div>` +
        `<span class="info" aria-hidden="true">i</span><div class="tip" role="tooltip">${escapeHtml(card.definition)}</div></div>`,
    )
    .join('');
  const embedded = {
    periods: data.periods,
    cohortRevenue: data.cohortRevenue,
    channels: data.channels,
    acquisitionByChannel: data.acquisitionByChannel,
    acquisitionByPeriod: data.acquisitionByPeriod,
    referrals: data.referrals,
    nps: data.nps,
    clvDistribution: data.clvDistribution,
    aliveDistribution: data.aliveDistribution,
    clvEmpty: noPredictionsReason(data),
    segments: data.segments,
    campaigns: data.campaigns,
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer report as of ${escapeHtml(data.asOf)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>Customer report</h1><p class="sub">As of ${escapeHtml(data.asOf)} (events up to the end of that day). Hover a figure for its definition.</p></header>
<main>
<section><div class="cards">${cards}</div></section>
<section><h2>Cohort retention</h2><p class="hint">Share of each acquisition cohort (period of first purchase) that purchased again k periods later.</p>${cohortHeatmap(data)}</section>
<div class="grid">
${chartBlock('retention', 'Retention and churn per period', 'Exact rates follow the customers in the base at the start; the classic formulas compare head counts and can go negative.')}
${chartBlock('movement', 'How the customer base moved', 'New, reactivated and retained customers at the end of each period; churned ones below zero.')}
${chartBlock('revenue', 'Net revenue and AOV per period', 'Net of refunds, by purchase date.')}
${chartBlock('cohortRevenue', 'Revenue per customer by cohort', 'Net revenue per acquired customer, cumulated since the cohort period: up to eight cohorts, spread back from the latest (customers in brackets). A hollow point is a period not over yet.')}
${chartBlock('channels', 'Acquisition channels', "By the channel of each customer's first purchase: net revenue per customer 90, 180 and 365 days on (once observed), mean predicted CLV and the share who bought again.")}
${chartBlock('acquisition', 'Acquisition cost and value by channel', 'Over every period: spend per customer acquired (CAC), and the mean CLV of those customers over it (LTV:CAC), predicted and classic. Channels with spend only.')}
${chartBlock('payback', 'CAC and payback per period', "All channels: what each period's customers cost, and the days their net revenue (x grossMarginRate) took to repay it; no point until it has.")}
${chartBlock('referrals', 'Referrals', "New customers whose first purchase named a referrer, and their share of the period's new customers.")}
${chartBlock('nps', 'NPS per period', "Each customer's latest answer in the period.")}
${chartBlock('clv', 'Predicted CLV', 'Customers by predicted, discounted CLV over the horizon.')}
${chartBlock('alive', 'P(alive)', aliveHint(data))}
${chartBlock('segments', 'RFM segments', 'Customers and net revenue per segment.')}
${chartBlock('campaigns', 'Campaign audiences', 'Customers selected for each campaign this run, one campaign per customer.')}
</div>
<section id="campaign-results"><h2>Campaign results</h2>${campaignResultsTable(data)}</section>
</main>
<footer>Generated ${escapeHtml(data.generatedAt)} by customer-marketing-pipeline.</footer>
<script id="report-data" type="application/json">${scriptJson(embedded)}</script>
<script>${chartJsSource.replace(/<\/script/gi, '<\\/script')}</script>
<script>${CHART_SCRIPT}</script>
</body>
</html>
`;
}
