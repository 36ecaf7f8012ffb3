import { createHmac, randomBytes } from 'node:crypto';
import { lakeLayout } from '../lake/layout.ts';
import type { ObjectStore } from '../ports.ts';

/*
 * The erasure register: one object per erasure request under erasures/register/, holding the
 * erased customers as keyed ids (HMAC-SHA-256 of the id under the lake's own secret key,
 * erasures/key), never the ids themselves, with when they were erased and what was removed.
 * Ingest reads it to refuse later events of those customers; an auditor reads it, with the
 * request's report, as the record of each erasure. Without the key the keyed ids cannot be
 * turned back into ids, nor an id checked against them.
 */

/** What was removed for a request, per place in the lake. */
export interface ErasureCounts {
  /** Raw event rows removed, per event type. */
  readonly raw: Readonly<Record<string, number>>;
  /** Raw order rows of other customers whose referred_by named an erased customer: now null. */
  readonly referralsCleared: number;
  /** Refused records (rejected/) whose payload or reason named an erased customer. */
  readonly rejected: number;
  /** Records of the published-message log. */
  readonly published: number;
  /** Campaign messages in the local outbox. */
  readonly outbox: number;
  /** Curated table rows removed, per table (every as_of partition). */
  readonly curated: Readonly<Record<string, number>>;
  /** Curated cells of other customers' rows that named an erased customer (a referrer): now null. */
  readonly curatedCellsCleared: number;
  /** Records removed from input files kept under landing/ (the files a bulk ingest read). */
  readonly landing: number;
  /** Files under landing/ that could not be read through (a truncated gzip, a broken array): to be checked by hand. */
  readonly unreadable: readonly string[];
  /** HTML reports that named an erased customer, deleted. */
  readonly reports: number;
  /** Objects rewritten without the erased customers, and objects deleted (nothing left in them). */
  readonly objectsRewritten: number;
  readonly objectsDeleted: number;
}

/** One erasure request as the register keeps it. */
export interface ErasureRequest {
  readonly request_id: string;
  readonly requested_at: string;
  /** The erased customers' keyed ids (hex HMAC-SHA-256), sorted. */
  readonly customers: readonly string[];
  /** When the lake had been cleaned; null while the request is under way (or if it failed: run it again). */
  readonly completed_at: string | null;
  readonly removed: ErasureCounts | null;
}

/** The keyed id of a customer: HMAC-SHA-256 under the lake's key, in hex. */
export function keyedId(key: Uint8Array, customerId: string): string {
  return createHmac('sha256', key).update(customerId, 'utf8').digest('hex');
}

/**
 * The lake's erasure key, created (32 random bytes) by the first erasure: of two erasures
 * starting at once, one creates it and both use it.
 */
export async function erasureKey(store: ObjectStore): Promise<Uint8Array> {
  const keys = await store.list(lakeLayout.erasures);
  // A new key would not recognise anyone the register already names: ingest would let them back in.
  if (!keys.includes(lakeLayout.erasureKey) && keys.some((key) => key.startsWith(lakeLayout.erasureRegister))) {
    throw new Error(`the erasure register has entries but the lake has no ${lakeLayout.erasureKey}: restore the key before erasing anyone else`);
  }
  await store.putIfAbsent(lakeLayout.erasureKey, randomBytes(32));
  return store.get(lakeLayout.erasureKey);
}

export async function putErasureRequest(store: ObjectStore, request: ErasureRequest): Promise<void> {
  await store.put(lakeLayout.erasureRequest(request.request_id), `${JSON.stringify(request, null, 2)}\n`);
}

/** One request of the register, or undefined when there is none by that id. */
export async function readErasureRequest(store: ObjectStore, requestId: string): Promise<ErasureRequest | undefined> {
  const key = lakeLayout.erasureRequest(requestId);
  if (!(await store.list(lakeLayout.erasureRegister)).includes(key)) return undefined;
  return JSON.parse(new TextDecoder().decode(await store.get(key))) as ErasureRequest;
}

export async function readErasureRequests(store: ObjectStore): Promise<ErasureRequest[]> {
  const keys = (await store.list(lakeLayout.erasureRegister)).filter((key) => key.endsWith('.json'));
  const requests: ErasureRequest[] = [];
  for (const key of keys) requests.push(JSON.parse(new TextDecoder().decode(await store.get(key))) as ErasureRequest);
  return requests;
}

/**
 * The erased customers as ingest sees them: for an id, the UTC date it was erased on, or
 * undefined. Each distinct id is keyed once (a file holds many events per customer).
 */
export class ErasedCustomers {
  private readonly seen = new Map<string, string | null>();

  private constructor(
    private readonly key: Uint8Array | undefined,
    /** Keyed id -> the date of its first erasure. */
    readonly dates: ReadonlyMap<string, string>,
  ) {}

  static readonly none = new ErasedCustomers(undefined, new Map());

  /** From the key and the keyed ids with their dates (as a worker thread is handed them). */
  static of(key: Uint8Array, dates: ReadonlyMap<string, string>): ErasedCustomers {
    return dates.size === 0 ? ErasedCustomers.none : new ErasedCustomers(key, dates);
  }

  /** The lake's register: none when nobody was ever erased. */
  static async load(store: ObjectStore): Promise<ErasedCustomers> {
    const dates = new Map<string, string>();
    for (const request of await readErasureRequests(store)) {
      const date = request.requested_at.slice(0, 10);
      for (const customer of request.customers) {
        const earlier = dates.get(customer);
        if (earlier === undefined || date < earlier) dates.set(customer, date);
      }
    }
    if (dates.size === 0) return ErasedCustomers.none;
    if (!(await store.list(lakeLayout.erasures)).includes(lakeLayout.erasureKey)) {
      throw new Error(`the erasure register lists ${dates.size} customers but the lake has no ${lakeLayout.erasureKey}: erased customers cannot be recognised`);
    }
    return ErasedCustomers.of(await store.get(lakeLayout.erasureKey), dates);
  }

  get isEmpty(): boolean {
    return this.dates.size === 0;
  }

  /** The key, for handing the register to a worker thread; undefined when nobody is erased. */
  get secret(): Uint8Array | undefined {
    return this.key;
  }

  /** The date the customer was erased on, or undefined. */
  erasedOn(customerId: string): string | undefined {
    if (this.key === undefined) return undefined;
    let date = this.seen.get(customerId);
    if (date === undefined) {
      date = this.dates.get(keyedId(this.key, customerId)) ?? null;
      this.seen.set(customerId, date);
    }
    return date ?? undefined;
  }
}
