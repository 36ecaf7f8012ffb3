import { describe, expect, it } from 'vitest';
import { isCalendarDate, parseInstant, utcDate } from '../../functions/core/events/timestamps.ts';

describe('parseInstant', () => {
  it.each([
    ['2024-03-31T23:30:00Z', Date.UTC(2024, 2, 31, 23, 30)],
    ['2024-03-31T23:30:00-05:00', Date.UTC(2024, 3, 1, 4, 30)],
    ['2024-03-31T23:30:00+0530', Date.UTC(2024, 2, 31, 18, 0)],
    ['2024-03-31T23:30+01:00', Date.UTC(2024, 2, 31, 22, 30)],
    ['2024-03-31 23:30:00.123456Z', Date.UTC(2024, 2, 31, 23, 30, 0, 123)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2024-02-14T07:27:15.245313+00:00', Date.UTC(2024, 1, 14, 7, 27, 15, 245)],
    ['2024-02-14T07:27:15.2-03:30', Date.UTC(2024, 1, 14, 10, 57, 15, 200)],
    ['1970-01-01T01:00:00+01:00', 0],
  ])('reads %s', (text, expected) => {
    expect(parseInstant(text)).toEqual({ ok: true, epochMs: expected });
  });

  it.each([
    ['2024-03-31T23:30:00', 'ISO-8601'],
    ['2024-03-31', 'ISO-8601'],
    ['31/03/2024 10:00', 'ISO-8601'],
    ['2023-02-29T00:00:00Z', 'not a calendar date'],
    ['2024-04-31T00:00:00Z', 'not a calendar date'],
    ['2024-03-31T24:00:00Z', 'not a time of day'],
    ['2024-03-31T10:00:00+15:00', 'offset'],
    ['1969-12-31T23:59:59Z', 'between 1970'],
    ['2100-01-01T00:00:00Z', 'between 1970'],
    ['0075-06-01T00:00:00Z', 'between 1970'],
    ['1970-01-01T00:30:00+01:00', 'between 1970'],
    ['2099-12-31T23:30:00-01:00', 'between 1970'],
    ['2024-03-31T23:30:00.Z', 'ISO-8601'],
    ['2024-03-31T23:30:00.1234567891Z', 'ISO-8601'],
    ['2024-03-31T23:30:00+01:0', 'ISO-8601'],
    // Characters outside ASCII whose low byte is a digit, a hyphen or a colon: not read as those.
    ['2024-03-31T23:30:0\u0132Z', 'ISO-8601'],
    ['2024\u012d03-31T23:30:00Z', 'ISO-8601'],
    ['2024-03-31T23\u013a30:00+01:00', 'ISO-8601'],
  ])('refuses %s with a reason', (text, reason) => {
    const parsed = parseInstant(text);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toContain(reason);
  });

  it('reads every instant from 1970 to 2099 as Date does, with and without milliseconds', () => {
    const start = Date.UTC(1970, 0, 1);
    const span = Date.UTC(2100, 0, 1) - start;
    // Every day boundary of the range's leap years and century, plus random instants.
    const instants = [Date.UTC(2000, 1, 29), Date.UTC(2000, 2, 1) - 1, Date.UTC(2096, 11, 31, 23, 59, 59, 999), Date.UTC(1972, 1, 29, 12)];
    for (let index = 0; index < 20_000; index += 1) instants.push(start + Math.floor((((index * 2654435761) % 4294967296) / 4294967296) * span));
    for (const epochMs of instants) {
      const text = new Date(epochMs).toISOString();
      expect(parseInstant(text), text).toEqual({ ok: true, epochMs });
      const seconds = `${text.slice(0, 19)}Z`;
      expect(parseInstant(seconds), seconds).toEqual({ ok: true, epochMs: epochMs - (epochMs % 1000) });
    }
  });

  it('reads fractions of 1 to 9 digits and offsets as the offset and truncated milliseconds say', () => {
    // As other writers send them (Python's isoformat: microseconds and +00:00), computed here
    // from the parts with Date.UTC.
    for (let index = 0; index < 5_000; index += 1) {
      const utc = Date.UTC(1971 + (index % 128), index % 12, 1 + (index % 28), index % 24, (index * 7) % 60, (index * 13) % 60);
      const fraction = String((index * 2654435761) % 1_000_000_000)
        .padStart(9, '0')
        .slice(0, 1 + (index % 9));
      const offsetMinutes = ((index * 37) % (28 * 60 + 1)) - 14 * 60;
      const sign = offsetMinutes < 0 ? '-' : '+';
      const zone =
        index % 5 === 0
          ? 'Z'
          : `${sign}${String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0')}:${String(Math.abs(offsetMinutes) % 60).padStart(2, '0')}`;
      const text = `${new Date(utc).toISOString().slice(0, 19)}.${fraction}${zone}`;
      const millis = Number(fraction.padEnd(3, '0').slice(0, 3));
      expect(parseInstant(text), text).toEqual({ ok: true, epochMs: utc + millis - (zone === 'Z' ? 0 : offsetMinutes) * 60_000 });
    }
  });
});

describe('dates', () => {
  it('knows calendar dates', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2023-02-29')).toBe(false);
    expect(isCalendarDate('2024-2-1')).toBe(false);
  });

  it('gives the UTC date of an instant', () => {
    expect(utcDate(Date.UTC(2024, 0, 31, 23, 59))).toBe('2024-01-31');
  });
});
