import { Random } from '../functions/core/demo/random.ts';
import { LinesFile } from './bench-files.ts';

/**
 * Order and survey files as another shop's exporter writes them, not as this project's bench
 * writes its own: Python's json.dumps layout (a space after every colon and comma), its own key
 * order, UUID event ids, long order and customer ids, microsecond timestamps with an offset,
 * amounts as Python prints floats (`59.0`, `12.35`), four channels and one field the contract
 * does not know (kept in `extras`). Every event is valid; one in a hundred is delivered twice.
 * `orders` order events from orders / 10 customers over two years, and survey answers for
 * about a fifth of the orders.
 */
export async function writeOrdinaryData(
  orders: number,
  ordersPath: string,
  surveysPath: string,
  seed = 1729,
): Promise<{ orderEvents: number; surveyEvents: number }> {
  const random = new Random(seed);
  const customers = Math.max(1, Math.round(orders / 10));
  const start = Date.UTC(2024, 0, 1);
  const span = 730 * 86_400_000;
  const channels = ['web', 'web', 'app', 'store', 'marketplace'];
  const orderFile = new LinesFile(ordersPath);
  const surveyFile = new LinesFile(surveysPath);
  const buffer = orderFile.lines;
  const surveyBuffer = surveyFile.lines;
  let orderEvents = 0;
  let surveyEvents = 0;
  const uuid = () => {
    const hex = Array.from({ length: 32 }, () => random.integer(0, 15).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
  };
  /** Python's isoformat of an aware datetime in UTC: microseconds and +00:00. */
  const isoformat = (ms: number) => `${new Date(ms).toISOString().slice(0, 23)}${String(random.integer(0, 999)).padStart(3, '0')}+00:00`;
  /** Python's repr of a float: at least one decimal. */
  const pyFloat = (value: number) => (Number.isInteger(value) ? `${value}.0` : String(value));
  /** Strings quoted, numbers as written by their formatter. */
  type Field = [key: string, value: string | { readonly number: string }];
  const event = (fields: Field[]) => `{${fields.map(([key, value]) => `"${key}": ${typeof value === 'string' ? `"${value}"` : value.number}`).join(', ')}}\n`;
  let order = 0;
  while (orderEvents < orders) {
    order += 1;
    const customer = `CUST-${String(random.integer(1, customers)).padStart(9, '0')}`;
    const orderId = `ORD-2024-${String(order).padStart(10, '0')}`;
    const placedAt = start + Math.floor(random.next() * span);
    // One order in five costs whole dollars (written as `59.0`), the rest dollars and cents.
    const amount = random.gamma(4, 15);
    const total = random.chance(0.2) ? Math.round(amount) : Math.round(amount * 100) / 100;
    const channel = channels[random.integer(0, channels.length - 1)]!;
    const common = (status: string, at: number): Field[] => [
      ['customer_id', customer],
      ['order_id', orderId],
      ['event_id', uuid()],
      ['status', status],
      ['occurred_at', isoformat(at)],
      ['currency', 'USD'],
      ['total', { number: pyFloat(total) }],
      ['channel', channel],
      ['store_id', `store-${random.integer(1, 40)}`],
    ];
    orderEvents += 1;
    buffer.push(event(common('placed', placedAt)));
    const roll = random.next();
    if (roll < 0.03 && orderEvents < orders) {
      orderEvents += 1;
      buffer.push(event(common('cancelled', placedAt + 3_600_000)));
    } else if (roll < 0.08 && orderEvents < orders) {
      orderEvents += 1;
      buffer.push(event(common('refunded', placedAt + 5 * 86_400_000)));
    }
    if (random.chance(0.01)) buffer.push(buffer[buffer.length - 1]!);
    if (random.chance(0.2)) {
      surveyEvents += 1;
      surveyBuffer.push(
        event([
          ['event_id', uuid()],
          ['customer_id', customer],
          ['survey_id', 'nps-2024'],
          ['score', { number: String(random.integer(0, 10)) }],
          ['occurred_at', isoformat(placedAt + 3 * 86_400_000)],
        ]),
      );
    }
    if (buffer.length >= 10_000) await Promise.all([orderFile.flush(), surveyFile.flush()]);
  }
  await Promise.all([orderFile.close(), surveyFile.close()]);
  return { orderEvents, surveyEvents };
}
