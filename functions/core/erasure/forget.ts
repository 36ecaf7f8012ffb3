import { lakeLayout, newBatchId } from '../lake/layout.ts';
import { editParquetRows, readTextColumns } from '../lake/parquet-rewrite.ts';
import type { ObjectStore } from '../ports.ts';
import { withoutMentions } from './landing-files.ts';
import { IdMatcher, namesCustomer, parsedOrUndefined, recordNames } from './mentions.ts';
import { UsageError } from '../errors.ts';
import { MAX_ID_LENGTH } from '../events/schemas.ts';
import { isIdentifier } from '../ingest/validate.ts';
import { erasureKey, keyedId, putErasureRequest, readErasureRequest } from './register.ts';
import type { ErasureCounts, ErasureRequest } from './register.ts';

/*
 * Forgetting customers: every record of theirs is removed from the lake, object by object,
 * each object replaced whole (a reader sees it with or without them, never half-written) or
 * deleted when nothing is left in it. Their keyed ids go into the erasure register first, so
 * that an ingest starting from then on refuses their events.
 */

export interface ForgetOptions {
  readonly requestId?: string;
  readonly now?: () => Date;
}

export interface ForgetResult {
  readonly request: ErasureRequest;
  /** Keys of the objects replaced and deleted: on a versioned store their older versions still hold the customers. */
  readonly rewrittenKeys: readonly string[];
  readonly deletedKeys: readonly string[];
  /** How many of the ids had no raw event in the lake (a misspelt id, or a customer never seen). */
  readonly withoutEvents: number;
}

/** S3 user metadata on a landing file an erasure rewrote (S3 keeps metadata names in lower case). */
export const ERASURE_REWRITE_METADATA = 'pipeline-erasure';

/** Curated columns that name another customer than the row's (a referrer): cleared, the row kept. */
const REFERRER_COLUMNS: ReadonlySet<string> = new Set(['referred_by']);

/**
 * The prefixes of the lake that may hold a customer (the register and the leases name nobody):
 * where a versioned store's older versions must go too.
 */
export const ERASED_PREFIXES = [
  lakeLayout.landing,
  'raw/',
  lakeLayout.rejected,
  'runs/',
  lakeLayout.curated,
  lakeLayout.published,
  lakeLayout.outbox,
  lakeLayout.reports,
] as const;

/** The event types whose rows belong to a customer (spend and exchange rates name none). */
const CUSTOMER_EVENT_TYPES = ['orders', 'surveys'] as const;

/** Places kept as JSON Lines whose records may name a customer anywhere in their text. */
const JSON_LINES_PLACES = [
  { prefix: lakeLayout.rejected, counted: 'rejected' },
  { prefix: lakeLayout.published, counted: 'published' },
  { prefix: lakeLayout.outbox, counted: 'outbox' },
] as const;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Removes the customers from the lake and records the request in the register. */
export async function forgetCustomers(store: ObjectStore, customerIds: readonly string[], options: ForgetOptions = {}): Promise<ForgetResult> {
  const ids = checkedIds(customerIds);
  if (ids.size === 0) throw new UsageError('forget needs at least one customer id');
  const now = options.now ?? (() => new Date());
  const requestId = options.requestId ?? newBatchId(now());
  // The same request again (a queue's redelivery): a completed one is the record, kept as it is;
  // a pending one (it failed part way) goes on with its first time.
  const earlier = await readErasureRequest(store, requestId);
  if (earlier?.completed_at) return { request: earlier, rewrittenKeys: [], deletedKeys: [], withoutEvents: 0 };
  const key = await erasureKey(store);
  const pending: ErasureRequest = {
    request_id: requestId,
    requested_at: earlier?.requested_at ?? now().toISOString(),
    customers: [...ids].map((id) => keyedId(key, id)).sort(),
    completed_at: null,
    removed: null,
  };
  // Registered before anything is removed: an ingest that starts while this runs already refuses them.
  await putErasureRequest(store, pending);
  const raw: Record<string, number> = {};
  const unreadable: string[] = [];
  const found = new Set<string>();
  const curated: Record<string, number> = {};
  const counts: Mutable<ErasureCounts> = {
    raw,
    referralsCleared: 0,
    rejected: 0,
    published: 0,
    outbox: 0,
    curated,
    curatedCellsCleared: 0,
    landing: 0,
    unreadable,
    reports: 0,
    objectsRewritten: 0,
    objectsDeleted: 0,
  };
  const rewrittenKeys: string[] = [];
  const deletedKeys: string[] = [];
  const replace = async (objectKey: string, body: Uint8Array | string | null, metadata?: Record<string, string>) => {
    if (body === null) {
      await store.delete([objectKey]);
      deletedKeys.push(objectKey);
      counts.objectsDeleted += 1;
    } else {
      await store.put(objectKey, body, metadata);
      rewrittenKeys.push(objectKey);
      counts.objectsRewritten += 1;
    }
  };

  for (const type of CUSTOMER_EVENT_TYPES) {
    let removed = 0;
    for (const objectKey of await store.list(lakeLayout.rawTable(type))) {
      if (!objectKey.endsWith('.parquet')) continue;
      const bytes = await store.get(objectKey);
      const text = readTextColumns(bytes, type === 'orders' ? ['customer_id', 'referred_by'] : ['customer_id']);
      // Another customer's order naming an erased referrer keeps the order, not the referrer.
      const { drop, clear, dropped, cleared, owned } = customerRowEdits(text, text.get('customer_id')!.length, ids);
      for (const id of owned) found.add(id);
      if (dropped === 0 && cleared === 0) continue;
      await replace(objectKey, editParquetRows(bytes, { drop, clear }));
      removed += dropped;
      counts.referralsCleared += cleared;
    }
    raw[type] = removed;
  }

  const matcher = new IdMatcher(ids);
  for (const { prefix, counted } of JSON_LINES_PLACES) {
    for (const objectKey of await store.list(prefix)) {
      if (!objectKey.endsWith('.jsonl')) continue;
      const lines = new TextDecoder().decode(await store.get(objectKey)).split('\n');
      const kept = lines.filter((line) => !(counted === 'rejected' ? refusedRecordNames(line, ids, matcher) : recordNames(line, ids, matcher)));
      if (kept.length === lines.length) continue;
      counts[counted] += lines.length - kept.length;
      await replace(objectKey, kept.some((line) => line.trim() !== '') ? kept.join('\n') : null);
    }
  }

  for (const objectKey of await store.list(lakeLayout.curated)) {
    if (!objectKey.endsWith('.parquet')) continue;
    const table = objectKey.split('/')[1]!;
    const bytes = await store.get(objectKey);
    const text = readTextColumns(bytes);
    const { drop, clear, dropped, cleared } = customerRowEdits(text, text.values().next().value?.length ?? 0, ids);
    if (dropped === 0 && cleared === 0) continue;
    await replace(objectKey, editParquetRows(bytes, { drop, clear }));
    curated[table] = (curated[table] ?? 0) + dropped;
    counts.curatedCellsCleared += cleared;
  }

  for (const objectKey of await store.list(lakeLayout.landing)) {
    let cleaned: Awaited<ReturnType<typeof withoutMentions>>;
    try {
      cleaned = await withoutMentions(objectKey, await store.get(objectKey), ids, matcher);
    } catch {
      // A file ingest could only partly read (a truncated gzip, a broken array): reported, for a person to look at.
      unreadable.push(objectKey);
      continue;
    }
    if (cleaned.removed === 0) continue;
    counts.landing += cleaned.removed;
    // Marked, so that the ingest of files dropped under landing/ (AWS) does not ingest it again.
    await replace(objectKey, cleaned.bytes, { [ERASURE_REWRITE_METADATA]: pending.request_id });
  }

  for (const objectKey of await store.list(lakeLayout.reports)) {
    if (!objectKey.endsWith('.html')) continue;
    if (!matcher.mentionsAny(new TextDecoder().decode(await store.get(objectKey)))) continue;
    await replace(objectKey, null);
    counts.reports += 1;
  }

  const request: ErasureRequest = { ...pending, completed_at: now().toISOString(), removed: counts };
  await putErasureRequest(store, request);
  return { request, rewrittenKeys, deletedKeys, withoutEvents: [...ids].filter((id) => !found.has(id)).length };
}

/**
 * A refused record names a customer by its payload (read as an event when it is one) or, for a
 * payload that is not JSON (a CSV record, broken text), by the id anywhere in it or its reason.
 */
function refusedRecordNames(line: string, ids: ReadonlySet<string>, matcher: IdMatcher): boolean {
  const refused = parsedOrUndefined(line) as { payload?: unknown; reason?: unknown } | undefined;
  if (typeof refused !== 'object' || refused === null) return matcher.mentionsAny(line);
  const payload = typeof refused.payload === 'string' ? parsedOrUndefined(refused.payload) : undefined;
  if (typeof payload === 'object' && payload !== null && !Array.isArray(payload)) return namesCustomer(payload, ids);
  return matcher.mentionsAny(String(refused.payload ?? '')) || matcher.mentionsAny(String(refused.reason ?? ''));
}

/** Ids as the events allow them: anything else is a mistake, not a customer. */
function checkedIds(customerIds: readonly string[]): Set<string> {
  for (const id of customerIds) {
    if (!isIdentifier(id)) {
      throw new UsageError(`forget: ${JSON.stringify(id)} is not a customer id (non-blank, at most ${MAX_ID_LENGTH} characters, no control characters)`);
    }
  }
  return new Set(customerIds);
}

/**
 * The edits of a Parquet file's rows (raw orders and surveys, any curated table): rows whose
 * customer_id is erased are dropped; a referred_by naming an erased customer in another
 * customer's row is cleared. Also which erased ids owned a dropped row.
 */
function customerRowEdits(text: ReadonlyMap<string, readonly (string | null)[]>, rows: number, ids: ReadonlySet<string>) {
  const owners = text.get('customer_id');
  const drop = Array.from({ length: rows }, (_, row) => {
    const owner = owners?.[row];
    return owner !== undefined && owner !== null && ids.has(owner);
  });
  const owned = new Set(owners?.filter((_, row) => drop[row]) as string[] | undefined);
  const clear = new Map<string, boolean[]>();
  let cleared = 0;
  for (const [column, values] of text) {
    if (!REFERRER_COLUMNS.has(column)) continue;
    const cells = values.map((value, row) => !drop[row] && value !== null && ids.has(value));
    const count = cells.filter(Boolean).length;
    if (count === 0) continue;
    clear.set(column, cells);
    cleared += count;
  }
  return { drop, clear, dropped: drop.filter(Boolean).length, cleared, owned };
}
