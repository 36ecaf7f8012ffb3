import type { ObjectStore } from '../ports.ts';
import { acquireLease, holdsLease } from '../lake/lease.ts';
import type { Lease } from '../lake/lease.ts';
import { RUN_LEASE, RUN_LEASE_TTL_MS } from './run-request.ts';

/** Another run holds the lake; the state machine retries this error every minute for a while. */
export class RunLockBusyError extends Error {
  override readonly name = 'RunLockBusyError';
}

/**
 * Takes the lake's run lease for `holder` (an execution's ARN), the first state of an
 * execution; throws RunLockBusyError naming the holder when another run holds it.
 */
export async function takeRunLease(store: ObjectStore, holder: string, isHolderGone?: (holder: string) => Promise<boolean>): Promise<Lease> {
  const outcome = await acquireLease(store, RUN_LEASE, { holder, ttlMs: RUN_LEASE_TTL_MS, ...(isHolderGone ? { isHolderGone } : {}) });
  if (outcome.acquired) return outcome.lease;
  const { holder: other, acquired_at: since, expires_at: until } = outcome.heldBy;
  throw new RunLockBusyError(`another run holds the lake: ${other}, since ${since} (until ${until} at the latest)`);
}

/** The run lease an execution took is no longer its own: it must not change what others read. */
export class RunLeaseLostError extends Error {
  override readonly name = 'RunLeaseLostError';
}

/**
 * Confirms, before compaction and before each promotion, that the execution still holds the
 * generation of the run lease it took: an execution redriven after it failed (its lease was
 * given back then) or running past its lease fails here, having changed nothing, instead of
 * working beside another. Start a new execution instead of redriving one.
 */
export async function confirmRunLease(store: ObjectStore, holder: string, generation: number): Promise<void> {
  if (await holdsLease(store, RUN_LEASE, holder, generation)) return;
  throw new RunLeaseLostError(
    `${holder} no longer holds the run lease it took (generation ${generation}): it was given back or expired; start a new execution`,
  );
}
