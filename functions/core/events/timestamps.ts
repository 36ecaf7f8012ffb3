/**
 * ISO-8601 instants with an explicit offset. Date.parse is too forgiving (it reads
 * "2024-02-30" as March 1st and a timestamp without offset as local time), so the contract's
 * "ISO-8601 with offset or Z" is checked here, calendar included.
 */

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)$/;

/** Earliest and latest instants accepted: anything outside is a clock or encoding bug. */
export const EARLIEST_INSTANT_MS = Date.UTC(1970, 0, 1);
export const LATEST_INSTANT_MS = Date.UTC(2100, 0, 1);

export type InstantParse = { ok: true; epochMs: number } | { ok: false; reason: string };

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** Leap years in 1 ... year. */
const leapYearsThrough = (year: number) => Math.floor(year / 4) - Math.floor(year / 100) + Math.floor(year / 400);
const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** Value of the digits bytes[start, start + count), or -1 if any is not an ASCII digit. */
function digits(bytes: Uint8Array, start: number, count: number): number {
  let value = 0;
  for (let index = start; index < start + count; index += 1) {
    const digit = bytes[index]! - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const COLON = 0x3a;
const UPPER_T = 0x54;
const UPPER_Z = 0x5a;

/** The offset in minutes of "Z" or "+HH:MM" / "-HH:MM" at bytes[start..end), or undefined for any other form or range. */
function plainOffsetMinutes(bytes: Uint8Array, start: number, end: number): number | undefined {
  const remaining = end - start;
  if (remaining === 1) return bytes[start] === UPPER_Z ? 0 : undefined;
  const sign = bytes[start] === PLUS ? 1 : bytes[start] === MINUS ? -1 : 0;
  if (remaining !== 6 || sign === 0 || bytes[start + 3] !== COLON) return undefined;
  const hours = digits(bytes, start + 1, 2);
  const minutes = digits(bytes, start + 4, 2);
  if (hours < 0 || hours > 14 || minutes < 0 || minutes > 59) return undefined;
  return sign * (hours * 60 + minutes);
}

/** The longest canonical shape: 19 characters, a point and 9 digits, an offset of 6. */
const LONGEST_CANONICAL = 35;
const scratch = new Uint8Array(LONGEST_CANONICAL);

/**
 * The shapes nearly every producer sends, read from the ASCII bytes[start..end):
 * 2024-03-31T23:30:00, then optionally a fraction of 1 to 9 digits (truncated to milliseconds),
 * then Z or an offset like +00:00 (as Python's isoformat writes it). Undefined for anything
 * else or out of range, which the general parser then reads and words the reason for. Ingest
 * calls this for every event: a parallel ingest's fast path on the line's own bytes, without
 * making a string of them (plain-lines.ts), and parseInstant on a string's character codes.
 */
export function canonicalInstantOfBytes(bytes: Uint8Array, start: number, end: number): number | undefined {
  const length = end - start;
  if (length < 20 || length > LONGEST_CANONICAL) return undefined;
  if (bytes[start + 4] !== MINUS || bytes[start + 7] !== MINUS || bytes[start + 10] !== UPPER_T || bytes[start + 13] !== COLON || bytes[start + 16] !== COLON)
    return undefined;
  let zoneStart = start + 19;
  let millis = 0;
  if (bytes[zoneStart] === DOT) {
    const fractionStart = start + 20;
    zoneStart = fractionStart;
    while (zoneStart < end && zoneStart < start + 29 && bytes[zoneStart]! >= 48 && bytes[zoneStart]! <= 57) zoneStart += 1;
    const fractionDigits = zoneStart - fractionStart;
    if (fractionDigits === 0) return undefined;
    millis = digits(bytes, fractionStart, Math.min(3, fractionDigits)) * 10 ** Math.max(0, 3 - fractionDigits);
  }
  const offsetMinutes = plainOffsetMinutes(bytes, zoneStart, end);
  if (offsetMinutes === undefined) return undefined;
  const year = digits(bytes, start, 4);
  const month = digits(bytes, start + 5, 2);
  const day = digits(bytes, start + 8, 2);
  const hour = digits(bytes, start + 11, 2);
  const minute = digits(bytes, start + 14, 2);
  const second = digits(bytes, start + 17, 2);
  if (year < 1970 || year >= 2100 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return undefined;
  }
  const leap = isLeapYear(year);
  if (day > DAYS_IN_MONTH[month - 1]! + (month === 2 && leap ? 1 : 0)) return undefined;
  // Days since 1970-01-01: whole years with their leap days, then months and days.
  const leapDaysBefore = leapYearsThrough(year - 1) - leapYearsThrough(1969);
  const days = (year - 1970) * 365 + leapDaysBefore + DAYS_BEFORE_MONTH[month - 1]! + (month > 2 && leap ? 1 : 0) + day - 1;
  const epochMs = ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + millis;
  return epochMs >= EARLIEST_INSTANT_MS && epochMs < LATEST_INSTANT_MS ? epochMs : undefined;
}

/** canonicalInstantOfBytes of a string; a character outside ASCII is no shape's. */
function parseCanonicalInstant(text: string): number | undefined {
  if (text.length > LONGEST_CANONICAL) return undefined;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    scratch[index] = code < 0x80 ? code : 0;
  }
  return canonicalInstantOfBytes(scratch, 0, text.length);
}

/** Parses an ISO-8601 timestamp with offset into epoch milliseconds (sub-ms digits are truncated). */
export function parseInstant(text: string): InstantParse {
  const canonical = parseCanonicalInstant(text);
  return canonical !== undefined ? { ok: true, epochMs: canonical } : parseOtherInstant(text);
}

/**
 * parseInstant for a text that canonicalInstantOfBytes has turned down: the other ISO shapes,
 * and the reason for anything else.
 */
export function parseOtherInstant(text: string): InstantParse {
  const match = ISO_INSTANT.exec(text);
  if (!match) {
    return {
      ok: false,
      reason: 'expected an ISO-8601 timestamp with offset, like 2024-03-31T23:30:00-05:00 or 2024-03-31T23:30:00Z',
    };
  }
  const [, y, mo, d, h, mi, s, fraction, zone] = match as unknown as string[];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  // Checked on the text: Date.UTC reads years 0-99 as 1900-1999.
  if (year < 1970 || year >= 2100) return { ok: false, reason: 'must be between 1970-01-01 and 2100-01-01' };
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, reason: `${y}-${mo}-${d} is not a calendar date` };
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return { ok: false, reason: `${h}:${mi}:${s ?? '00'} is not a time of day` };
  }
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone!.startsWith('-') ? -1 : 1;
    const digits = zone!.slice(1).replace(':', '');
    const offsetHours = Number(digits.slice(0, 2));
    const offsetMins = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (offsetHours > 14 || offsetMins > 59) return { ok: false, reason: `offset ${zone} is out of range` };
    offsetMinutes = sign * (offsetHours * 60 + offsetMins);
  }
  const millis = fraction === undefined ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3));
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  if (epochMs < EARLIEST_INSTANT_MS || epochMs >= LATEST_INSTANT_MS) {
    return { ok: false, reason: 'must be between 1970-01-01 and 2100-01-01' };
  }
  return { ok: true, epochMs };
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written YYYY-MM-DD. */
export function isCalendarDate(text: string): boolean {
  const match = ISO_DATE.exec(text);
  if (!match) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** The UTC calendar date (YYYY-MM-DD) of an instant. */
export function utcDate(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/**
 * The earliest date an event may fall on (UTC) unless configured otherwise (earliestEventDate):
 * Athena's partition projection starts there, so an earlier event would be stored and never read.
 */
export const DEFAULT_EARLIEST_EVENT_DATE = '2000-01-01';

/** The first instant of an earliest event date, the bound validateRecord compares with. */
export const earliestEventMs = (date: string): number => Date.parse(`${date}T00:00:00Z`);
