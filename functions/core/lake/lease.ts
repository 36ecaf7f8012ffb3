import { randomBytes } from 'node:crypto';
import type { ObjectStore } from '../ports.ts';
import { lakeLayout } from './layout.ts';

/**
 * Leases: one holder at a time for work that must not overlap (a run that compacts, promotes
 * and publishes; publishing, which reads the published log and then sends). Built on the
 * store's create-if-absent alone, so it is the same on S3 (conditional writes) and on a
 * directory (exclusive links):
 *
 * - The lease of a name is a sequence of generations, locks/<name>/<generation>.json, each
 *   created once with putIfAbsent by the holder that won it. The newest generation is the
 *   current one; it is free once its holder wrote <generation>.released, once it expired
 *   (expires_at, set from the longest its holder can legitimately run), or once the caller can
 *   tell its holder has ended (isHolderGone: a finished execution, a dead local process).
 * - To take a free lease, an acquirer creates the next generation. Of two acquirers only one
 *   can create it; the other reads the winner's record back and is told who holds the lease.
 *   An acquirer that read an old listing and created a generation older than the newest sees
 *   the newer one when it lists again, and gives its own up: no two holders ever both win.
 * - Objects are never rewritten, so no compare-and-swap is needed; the generations of the
 *   last hundred leases are kept, older ones deleted.
 */
export interface LeaseRecord {
  /** Who holds it: an execution ARN, a Lambda request, a local process. */
  readonly holder: string;
  /** Unique per acquisition: tells an acquirer its own write from another's. */
  readonly nonce: string;
  readonly acquired_at: string;
  /** After this instant the lease is free whatever its holder does. */
  readonly expires_at: string;
}

export interface LeaseOptions {
  readonly holder: string;
  /** How long the lease is good for: longer than the holder can legitimately take. */
  readonly ttlMs: number;
  readonly now?: () => Date;
  /** True when the holder has certainly ended, so its lease is free before it expires. */
  readonly isHolderGone?: (holder: string) => Promise<boolean>;
}

export interface Lease {
  readonly name: string;
  readonly generation: number;
  readonly record: LeaseRecord;
}

export type LeaseOutcome = { readonly acquired: true; readonly lease: Lease } | { readonly acquired: false; readonly heldBy: LeaseRecord };

/** A lease that stayed held by another for as long as the caller would wait. */
export class LeaseBusyError extends Error {
  override readonly name = 'LeaseBusyError';
  constructor(
    readonly leaseName: string,
    readonly heldBy: LeaseRecord,
  ) {
    super(`${leaseName} is held by ${heldBy.holder} since ${heldBy.acquired_at} (until ${heldBy.expires_at} at the latest)`);
  }
}

const KEPT_GENERATIONS = 100;
const prefixOf = (name: string) => `${lakeLayout.locks}${name}/`;
const generationKey = (name: string, generation: number) => `${prefixOf(name)}${String(generation).padStart(12, '0')}.json`;
const releasedKey = (name: string, generation: number) => `${prefixOf(name)}${String(generation).padStart(12, '0')}.released`;

interface Generations {
  readonly newest: number;
  readonly released: ReadonlySet<number>;
  readonly all: readonly number[];
}

async function generationsOf(store: ObjectStore, name: string): Promise<Generations> {
  const keys = await store.list(prefixOf(name));
  const numberOf = (key: string, suffix: string) => (key.endsWith(suffix) ? Number(key.slice(prefixOf(name).length, -suffix.length)) : Number.NaN);
  const all = keys.map((key) => numberOf(key, '.json')).filter(Number.isInteger);
  const released = new Set(keys.map((key) => numberOf(key, '.released')).filter(Number.isInteger));
  return { newest: Math.max(0, ...all), released, all };
}

async function readRecord(store: ObjectStore, name: string, generation: number): Promise<LeaseRecord> {
  return JSON.parse(new TextDecoder().decode(await store.get(generationKey(name, generation)))) as LeaseRecord;
}

/** Takes the lease of `name` if it is free (or already this holder's); otherwise says who holds it. */
export async function acquireLease(store: ObjectStore, name: string, options: LeaseOptions): Promise<LeaseOutcome> {
  const now = options.now?.() ?? new Date();
  const before = await generationsOf(store, name);
  if (before.newest > 0 && !before.released.has(before.newest)) {
    const current = await readRecord(store, name, before.newest);
    const expired = Date.parse(current.expires_at) <= now.getTime();
    // A holder asking again (a retried call whose first reply was lost) still holds it, until it
    // expires: then it must win a new generation like anyone else.
    if (current.holder === options.holder && !expired) return { acquired: true, lease: { name, generation: before.newest, record: current } };
    if (!expired && !(await options.isHolderGone?.(current.holder))) return { acquired: false, heldBy: current };
  }
  const generation = before.newest + 1;
  const record: LeaseRecord = {
    holder: options.holder,
    nonce: randomBytes(12).toString('hex'),
    acquired_at: now.toISOString(),
    expires_at: new Date(now.getTime() + options.ttlMs).toISOString(),
  };
  if (!(await store.putIfAbsent(generationKey(name, generation), JSON.stringify(record)))) {
    // Another acquirer was first, or this write landed and only its reply was lost.
    const winner = await readRecord(store, name, generation);
    if (winner.nonce !== record.nonce) return { acquired: false, heldBy: winner };
  }
  const after = await generationsOf(store, name);
  if (after.newest > generation) {
    // Created from an old listing: a newer generation exists, and this one never counted.
    await store.putIfAbsent(releasedKey(name, generation), '');
    return { acquired: false, heldBy: await readRecord(store, name, after.newest) };
  }
  const stale = after.all.filter((each) => each <= generation - KEPT_GENERATIONS);
  await store.delete(stale.flatMap((each) => [generationKey(name, each), releasedKey(name, each)]));
  return { acquired: true, lease: { name, generation, record } };
}

/**
 * Whether `holder` holds the lease of `name` in exactly `generation`, unexpired and not released:
 * what a holder checks before work that must not overlap, when it took the lease earlier.
 */
export async function holdsLease(store: ObjectStore, name: string, holder: string, generation: number, now: Date = new Date()): Promise<boolean> {
  const { newest, released } = await generationsOf(store, name);
  if (newest !== generation || released.has(newest)) return false;
  const record = await readRecord(store, name, newest);
  return record.holder === holder && Date.parse(record.expires_at) > now.getTime();
}

/**
 * Gives up the lease of `name` if `holder` holds it: true when this call released it, false
 * when the holder did not hold it (already released, expired and taken over, never taken).
 */
export async function releaseLease(store: ObjectStore, name: string, holder: string): Promise<boolean> {
  const { newest, released } = await generationsOf(store, name);
  if (newest === 0 || released.has(newest)) return false;
  if ((await readRecord(store, name, newest)).holder !== holder) return false;
  return store.putIfAbsent(releasedKey(name, newest), '');
}

export interface WaitOptions {
  /** How long to wait for a held lease before giving up with LeaseBusyError. Default 0. */
  readonly waitMs?: number;
  /** Between two tries. Default 2 seconds. */
  readonly pollMs?: number;
  readonly sleep?: (milliseconds: number) => Promise<void>;
  /** Told once, when the lease is held by another and the caller starts to wait. */
  readonly onWait?: (heldBy: LeaseRecord) => void;
}

/** Runs `work` holding the lease of `name`, waiting for it up to waitMs; releases it after, whatever happens. */
export async function withLease<T>(store: ObjectStore, name: string, options: LeaseOptions & WaitOptions, work: () => Promise<T>): Promise<T> {
  const sleep = options.sleep ?? ((milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds)));
  const pollMs = options.pollMs ?? 2000;
  for (let waited = 0; ; waited += pollMs) {
    const outcome = await acquireLease(store, name, options);
    if (outcome.acquired) break;
    if (waited >= (options.waitMs ?? 0)) throw new LeaseBusyError(name, outcome.heldBy);
    if (waited === 0) options.onWait?.(outcome.heldBy);
    await sleep(pollMs);
  }
  try {
    return await work();
  } finally {
    await releaseLease(store, name, options.holder);
  }
}
