import { Random } from '../functions/core/demo/random.ts';
import { LinesFile } from './bench-files.ts';

/**
 * Deterministic benchmark data, streamed to disk: `orders` order events from orders / 10
 * customers over two years (cancellations, partial and full refunds, duplicate deliveries) and
 * survey answers for about a fifth of the purchases.
 */
export async function writeBenchData(
  orders: number,
  ordersPath: string,
  surveysPath: string,
  seed = 42,
): Promise<{ orderEvents: number; surveyEvents: number }> {
  const random = new Random(seed);
  const customers = Math.max(1, Math.round(orders / 10));
  const start = Date.UTC(2024, 0, 1);
  const span = 730 * 86_400_000;
  const orderFile = new LinesFile(ordersPath);
  const surveyFile = new LinesFile(surveysPath);
  const buffer = orderFile.lines;
  const surveyBuffer = surveyFile.lines;
  let orderEvents = 0;
  let surveyEvents = 0;
  let order = 0;
  while (orderEvents < orders) {
    order += 1;
    const customer = `c${random.integer(1, customers)}`;
    const placedAt = start + Math.floor(random.next() * span);
    const total = Math.round(random.gamma(4, 15) * 100) / 100;
    const base = `"order_id":"o${order}","customer_id":"${customer}","currency":"EUR","total":${total}`;
    buffer.push(`{"event_id":"e${++orderEvents}",${base},"occurred_at":"${new Date(placedAt).toISOString()}","status":"placed","channel":"web"}\n`);
    const roll = random.next();
    if (roll < 0.03 && orderEvents < orders) {
      buffer.push(`{"event_id":"e${++orderEvents}",${base},"occurred_at":"${new Date(placedAt + 3_600_000).toISOString()}","status":"cancelled"}\n`);
    } else if (roll < 0.08 && orderEvents < orders) {
      const partial = roll < 0.055 ? `,"refunded_amount":${Math.round(total * 40) / 100}` : '';
      buffer.push(
        `{"event_id":"e${++orderEvents}",${base},"occurred_at":"${new Date(placedAt + 5 * 86_400_000).toISOString()}","status":"refunded"${partial}}\n`,
      );
    }
    // At-least-once delivery: about one event in a hundred arrives twice.
    if (random.chance(0.01)) buffer.push(buffer[buffer.length - 1]!);
    if (random.chance(0.2)) {
      surveyEvents += 1;
      surveyBuffer.push(
        `{"event_id":"s${surveyEvents}","customer_id":"${customer}","occurred_at":"${new Date(placedAt + 3 * 86_400_000).toISOString()}","score":${random.integer(0, 10)}}\n`,
      );
    }
    if (buffer.length >= 10_000) await Promise.all([orderFile.flush(), surveyFile.flush()]);
  }
  await Promise.all([orderFile.close(), surveyFile.close()]);
  return { orderEvents, surveyEvents };
}
