import { UsageError } from '../core/errors.ts';
import { isCalendarDate } from '../core/events/timestamps.ts';
import { calendarDates } from '../core/jobs/run-request.ts';

/** Validates a YYYY-MM-DD option value. */
export function parseDateOption(name: string, value: string): string {
  if (!isCalendarDate(value)) throw new UsageError(`--${name} ${JSON.stringify(value)} is not a date (YYYY-MM-DD)`);
  return value;
}

/** Every date from `from` to `to`, both included. */
export function dateRange(from: string, to: string): string[] {
  if (from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
  return calendarDates(from, to);
}

/** Today's date in a time zone. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** The as_of dates a command asks for: --as-of D, or --from A --to B, or today by default. */
export function resolveAsOfDates(values: { 'as-of'?: string; from?: string; to?: string }, timeZone: string): string[] {
  const asOf = values['as-of'];
  const { from, to } = values;
  if (asOf !== undefined && (from !== undefined || to !== undefined)) {
    throw new UsageError('give either --as-of or --from/--to, not both');
  }
  if ((from === undefined) !== (to === undefined)) throw new UsageError('--from and --to go together');
  if (from !== undefined && to !== undefined) return dateRange(parseDateOption('from', from), parseDateOption('to', to));
  return [asOf === undefined ? todayIn(timeZone) : parseDateOption('as-of', asOf)];
}
