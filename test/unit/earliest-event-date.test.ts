import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/core/config.ts';
import { earliestEventMs } from '../../functions/core/events/timestamps.ts';
import { ingestMessages } from '../../functions/core/ingest/ingest-messages.ts';
import { validateRecord } from '../../functions/core/ingest/validate.ts';
import { sqlParameters } from '../../functions/core/jobs/sql-template.ts';
import { MemoryObjectStore } from '../support/memory-store.ts';
import { orderEvent } from '../support/events.ts';

/**
 * One earliest event date (config earliestEventDate) for ingest and for Athena's partition
 * projection: an event dated before it, in UTC, is refused with a reason naming its date field
 * (Athena would store it and never read it), in every input type and every ingest path.
 */
const record = (value: Record<string, unknown>) => ({ recordNumber: 1, lineNumber: 1, text: JSON.stringify(value), typed: true, value });
const from2020 = earliestEventMs('2020-01-01');

describe('the earliest event date', () => {
  it('refuses an event dated before it (UTC) and names the field, in every input type', () => {
    const cases = [
      ['orders', orderEvent({ order_id: 'o1', customer_id: 'c1', occurred_at: '2019-12-31T23:59:59Z' }), 'occurred_at'],
      ['surveys', { event_id: 's1', customer_id: 'c1', occurred_at: '2019-12-31T23:59:59Z', score: 9 }, 'occurred_at'],
      ['spend', { event_id: 'sp1', spend_date: '2019-12-31', channel: 'web', amount: 10, currency: 'EUR' }, 'spend_date'],
      ['fx_rates', { date: '2019-12-31', currency: 'USD', rate: 0.9 }, 'date'],
    ] as const;
    for (const [type, value, field] of cases) {
      expect(validateRecord(type, record(value), from2020)).toEqual({
        ok: false,
        reason: `${field}: must be on or after 2020-01-01 (UTC), the earliest event date (earliestEventDate)`,
      });
    }
  });

  it('compares the UTC instant: 23:30 on Dec 31 at UTC-01:00 is already Jan 1', () => {
    const late = orderEvent({ order_id: 'o1', customer_id: 'c1', occurred_at: '2019-12-31T23:30:00-01:00' });
    expect(validateRecord('orders', record(late), from2020).ok).toBe(true);
    const spend = { event_id: 'sp1', spend_date: '2020-01-01', channel: 'web', amount: 10, currency: 'EUR' };
    expect(validateRecord('spend', record(spend), from2020).ok).toBe(true);
  });

  it('is 2000-01-01 by default, where partition projection starts by default', () => {
    expect(parseConfig({}).earliestEventDate).toBe('2000-01-01');
    const old = orderEvent({ order_id: 'o1', customer_id: 'c1', occurred_at: '1999-12-31T12:00:00Z' });
    expect(validateRecord('orders', record(old))).toMatchObject({ ok: false, reason: expect.stringMatching(/^occurred_at: must be on or after 2000-01-01/) });
    expect(() => parseConfig({ earliestEventDate: '1969-12-31' })).toThrow(/earliestEventDate.*1970-01-01 or later/);
    expect(() => parseConfig({ earliestEventDate: '2020-02-30' })).toThrow(/earliestEventDate/);
  });

  it('holds for events from the queue, which are kept with the reason', async () => {
    const store = new MemoryObjectStore();
    const body = (id: string, at: string) => JSON.stringify(orderEvent({ event_id: id, order_id: id, customer_id: 'c1', occurred_at: at }));
    const result = await ingestMessages(
      [
        { id: 'm1', eventType: 'orders', body: body('old', '2019-06-01T00:00:00Z') },
        { id: 'm2', eventType: 'orders', body: body('new', '2020-06-01T00:00:00Z') },
      ],
      store,
      new Date('2026-01-01T00:00:00Z'),
      '2020-01-01',
    );
    expect({ accepted: result.accepted, rejected: result.rejected }).toEqual({ accepted: 1, rejected: 1 });
    const rejected = await store.list('rejected/orders/');
    expect(new TextDecoder().decode(await store.get(rejected[0]!))).toContain('occurred_at: must be on or after 2020-01-01');
  });

  it('refuses a run for an as_of before it, whose tables Athena could not see', () => {
    const config = parseConfig({ earliestEventDate: '2020-01-01' });
    expect(() => sqlParameters(config, '2019-12-31')).toThrow(/as_of 2019-12-31 is before the earliest event date 2020-01-01/);
    expect(sqlParameters(config, '2020-01-01').as_of).toBe('2020-01-01');
  });
});
