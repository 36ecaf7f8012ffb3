/** Small factories for hand-made events: only what a test cares about is spelled out. */

let sequence = 0;

export function orderEvent(fields: {
  order_id: string;
  customer_id: string;
  occurred_at: string;
  status?: 'placed' | 'cancelled' | 'refunded';
  total?: number;
  refunded_amount?: number;
  event_id?: string;
  channel?: string;
  currency?: string;
  items?: readonly Record<string, unknown>[];
  referred_by?: string;
}): Record<string, unknown> {
  sequence += 1;
  return {
    event_id: fields.event_id ?? `evt-${fields.order_id}-${fields.status ?? 'placed'}-${sequence}`,
    currency: 'EUR',
    total: 10,
    ...fields,
  };
}

export function surveyEvent(fields: { customer_id: string; occurred_at: string; score: number; event_id?: string }): Record<string, unknown> {
  sequence += 1;
  return { event_id: fields.event_id ?? `svy-${fields.customer_id}-${sequence}`, survey_id: 'nps', ...fields };
}

/**
 * The valid order events of generated demo data, parsed: the generator marks its deliberately
 * broken records with "bad-" ids (or breaks their JSON).
 */
export function validDemoOrders<T extends { event_id?: string }>(orderLines: readonly string[]): T[] {
  return orderLines.flatMap((line) => {
    try {
      const event = JSON.parse(line) as T;
      return event.event_id && !event.event_id.startsWith('bad-') ? [event] : [];
    } catch {
      return [];
    }
  });
}
