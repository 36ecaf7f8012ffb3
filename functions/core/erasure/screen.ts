import type { EventType } from '../events/schemas.ts';
import type { RawRecord } from '../ingest/records.ts';
import { validateRecord } from '../ingest/validate.ts';
import type { Validation } from '../ingest/validate.ts';
import { CUSTOMER_FIELDS } from './mentions.ts';
import type { ErasedCustomers } from './register.ts';

/** A record's verdict, and whether a refusal may keep the record as received. */
export interface Screened<T extends EventType> {
  readonly validation: Validation<T>;
  /** False when the record names an erased customer: it is refused (or stored) without its text. */
  readonly keepPayload: boolean;
}

const textField = (value: unknown, field: string): string | undefined => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const text = (value as Record<string, unknown>)[field];
  return typeof text === 'string' ? text : undefined;
};

/**
 * validateRecord, with the erasure register applied first: an event of an erased customer is
 * refused as `customer_id: erased on DATE` and kept without its payload; an order of another
 * customer naming an erased referrer is stored without the referrer (referred_by null), and if
 * it is refused for another reason, kept without its payload. A record that is not a JSON
 * object cannot be told apart and is kept as received (`pipeline forget` again removes it).
 */
export function screenRecord<T extends EventType>(type: T, record: RawRecord, earliestMs: number, erased: ErasedCustomers): Screened<T> {
  if (erased.isEmpty) return { validation: validateRecord(type, record, earliestMs), keepPayload: true };
  const customerId = textField(record.value, 'customer_id');
  const erasedOn = customerId === undefined ? undefined : erased.erasedOn(customerId);
  if (erasedOn !== undefined) return { validation: { ok: false, reason: `customer_id: erased on ${erasedOn}` }, keepPayload: false };
  const validation = validateRecord(type, record, earliestMs);
  const referrer = textField(record.value, 'referred_by');
  if (referrer === undefined || erased.erasedOn(referrer) === undefined) return { validation, keepPayload: true };
  if (!validation.ok) return { validation, keepPayload: false };
  return { validation: { ok: true, row: { ...validation.row, referred_by: null } } as Validation<T>, keepPayload: false };
}

/** True when a parsed record names an erased customer (its own id or a referrer): such a record is never kept as received. */
export function namesErasedCustomer(value: unknown, erased: ErasedCustomers): boolean {
  if (erased.isEmpty) return false;
  return CUSTOMER_FIELDS.some((field) => {
    const id = textField(value, field);
    return id !== undefined && erased.erasedOn(id) !== undefined;
  });
}
