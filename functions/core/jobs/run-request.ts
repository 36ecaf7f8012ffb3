import { z } from 'zod';
import type { PipelineConfig } from '../config.ts';
import { isCalendarDate } from '../events/timestamps.ts';

/**
 * What starts an AWS run of the job graph, as the state machine's input:
 * - `{"as_of": "2026-11-21"}`: one date (a scheduler, a person), published;
 * - `{"from": "2026-10-01", "to": "2026-10-31"}`: a backfill, every date in order, oldest first,
 *   in one execution; not published unless `"publish": true` (messages for past dates are stale);
 * - `{"scheduled_time": "..."}`: the daily schedule, which runs the day before, published.
 * One execution runs at a time (the run lease); a second waits for the first.
 */
export interface RunRequest {
  readonly dates: readonly string[];
  readonly publish: boolean;
}

/**
 * At most this many dates per execution: each date is some 37 states of about 6 history events
 * (counted from the definition, not measured), so at most about 300 of the 25,000 a history holds.
 */
export const MAX_RUN_DATES = 60;

/** The longest an execution may run (the state machine's timeout); the run lease outlasts it. */
export const RUN_TIMEOUT_MS = 24 * 3_600_000;

/** The run lease is free at the latest this long after it was taken, even if nothing released it. */
export const RUN_LEASE_TTL_MS = RUN_TIMEOUT_MS + 10 * 60_000;

/** The lease every run of a lake holds: compaction, promotion and publishing never overlap. */
export const RUN_LEASE = 'run';

const date = z.string().refine(isCalendarDate, { message: 'must be a date, YYYY-MM-DD' });
const single = z.strictObject({ as_of: date, publish: z.boolean().default(true) });
const range = z.strictObject({ from: date, to: date, publish: z.boolean().default(false) });
const scheduled = z.strictObject({ scheduled_time: z.iso.datetime({ offset: true }) });

/** A run request that cannot be run, with what is wrong; nothing was started. */
export class InvalidRunRequestError extends Error {
  override readonly name = 'InvalidRunRequestError';
}

const problems = (error: z.ZodError) => error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('; ');

/** Every calendar date from `from` to `to`, both included. */
export function calendarDates(from: string, to: string): string[] {
  const dates: string[] = [];
  for (let day = Date.parse(`${from}T00:00:00Z`); ; day += 86_400_000) {
    const next = new Date(day).toISOString().slice(0, 10);
    if (next > to) break;
    dates.push(next);
  }
  return dates;
}

/** The day before the scheduled time, in the business time zone: a daily run covers yesterday. */
export function asOfForSchedule(scheduledTime: string, timeZone: string): string {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(scheduledTime));
  return new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

/** The dates an execution input asks for, checked; an InvalidRunRequestError says what is wrong. */
export function parseRunRequest(input: unknown, config: PipelineConfig): RunRequest {
  const shape = typeof input === 'object' && input !== null ? input : {};
  const schema = 'scheduled_time' in shape ? scheduled : 'from' in shape || 'to' in shape ? range : 'as_of' in shape ? single : undefined;
  if (schema === undefined) {
    throw new InvalidRunRequestError('input: give {"as_of": "YYYY-MM-DD"}, {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"} or {"scheduled_time": ...}');
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new InvalidRunRequestError(problems(parsed.error));
  const request = parsed.data as z.output<typeof single> | z.output<typeof range> | z.output<typeof scheduled>;
  let dates: string[];
  let publish = true;
  if ('scheduled_time' in request) dates = [asOfForSchedule(request.scheduled_time, config.businessTimezone)];
  else if ('as_of' in request) {
    dates = [request.as_of];
    publish = request.publish;
  } else {
    if (request.from > request.to) throw new InvalidRunRequestError(`from ${request.from} is after to ${request.to}`);
    dates = calendarDates(request.from, request.to);
    if (dates.length > MAX_RUN_DATES) {
      throw new InvalidRunRequestError(
        `from ${request.from} to ${request.to} is ${dates.length} dates; one execution runs at most ${MAX_RUN_DATES}: start one per range, they run one after another`,
      );
    }
    publish = request.publish;
  }
  if (dates[0]! < config.earliestEventDate)
    throw new InvalidRunRequestError(`${dates[0]} is before the earliest event date ${config.earliestEventDate} (earliestEventDate)`);
  return { dates, publish };
}
