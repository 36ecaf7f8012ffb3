import { lakeLayout, newBatchId } from '../lake/layout.ts';
import { editParquetRows, readTextColumns } from '../lake/parquet-rewrite.ts';
import type { ObjectStore } from '../ports.ts';
import { withoutMentions } from './landing-files.ts';
import { IdMatcher } from './mentions.ts';
import { erasureKey, keyedId, putErasureRequest } from './register.ts';
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
}

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
  const ids = new Set(customerIds);
  if (ids.size === 0) throw new Error('forget needs at least one customer id');
  const now = options.now ?? (() => new Date());
  const key = await erasureKey(store);
  const pending: ErasureRequest = {
    request_id: options.requestId ?? newBatchId(now()),
    requested_at: now().toISOString(),
    customers: [...ids].map((id) => keyedId(key, id)).sort(),
    completed_at: null,
    removed: null,
  };
  // Registered before anything is removed: an ingest that starts while this runs already refuses them.
  await putErasureRequest(store, pending);
  const raw: Record<string, number> = {};
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
    reports: 0,
    objectsRewritten: 0,
    objectsDeleted: 0,
  };
  const rewrittenKeys: string[] = [];
  const deletedKeys: string[] = [];
  const replace = async (objectKey: string, body: Uint8Array | string | null) => {
    if (body === null) {
      await store.delete([objectKey]);
      deletedKeys.push(objectKey);
      counts.objectsDeleted += 1;
    } else {
      await store.put(objectKey, body);
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
      const drop = text.get('customer_id')!.map((id) => id !== null && ids.has(id));
      // Another customer's order naming an erased referrer keeps the order, not the referrer.
      const referrers = text.get('referred_by');
      const clear = referrers?.map((id, row) => !drop[row] && id !== null && ids.has(id));
      const dropped = drop.filter(Boolean).length;
      const cleared = clear?.filter(Boolean).length ?? 0;
      if (dropped === 0 && cleared === 0) continue;
      await replace(objectKey, editParquetRows(bytes, { drop, clear: new Map(clear && cleared > 0 ? [['referred_by', clear]] : []) }));
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
      const kept = lines.filter((line) => !matcher.mentionsAny(line));
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
    const owners = text.get('customer_id');
    const drop = Array.from({ length: owners?.length ?? text.values().next().value?.length ?? 0 }, (_, row) => {
      const owner = owners?.[row];
      return owner !== undefined && owner !== null && ids.has(owner);
    });
    const clear = new Map<string, boolean[]>();
    let cleared = 0;
    for (const [column, values] of text) {
      if (column === 'customer_id') continue;
      const cells = values.map((value, row) => !drop[row] && value !== null && ids.has(value));
      const count = cells.filter(Boolean).length;
      if (count === 0) continue;
      clear.set(column, cells);
      cleared += count;
    }
    const dropped = drop.filter(Boolean).length;
    if (dropped === 0 && cleared === 0) continue;
    await replace(objectKey, editParquetRows(bytes, { drop, clear }));
    curated[table] = (curated[table] ?? 0) + dropped;
    counts.curatedCellsCleared += cleared;
  }

  for (const objectKey of await store.list(lakeLayout.landing)) {
    const { removed, bytes } = await withoutMentions(objectKey, await store.get(objectKey), matcher);
    if (removed === 0) continue;
    counts.landing += removed;
    await replace(objectKey, bytes);
  }

  for (const objectKey of await store.list(lakeLayout.reports)) {
    if (!objectKey.endsWith('.html')) continue;
    if (!matcher.mentionsAny(new TextDecoder().decode(await store.get(objectKey)))) continue;
    await replace(objectKey, null);
    counts.reports += 1;
  }

  const request: ErasureRequest = { ...pending, completed_at: now().toISOString(), removed: counts };
  await putErasureRequest(store, request);
  return { request, rewrittenKeys, deletedKeys };
}
