import type { ObjectStore } from '../ports.ts';
import { acquireLease } from '../lake/lease.ts';
import type { Lease } from '../lake/lease.ts';
import { RUN_LEASE, RUN_LEASE_TTL_MS } from './run-request.ts';

/** Another run holds the lake; the state machine retries this error every minute for a while. */
export class RunLockBusyError extends Error {
  override readonly name = 'RunLockBusyError';
}

/**
 * Takes the lake's run lease for `holder` (an execution's ARN), or confirms it still holds it:
 * the first state of an execution takes it, and compaction and promotion, the steps that change
 * what others read, confirm it before they start, so that an execution resumed past its first
 * state (a redrive) takes it again instead of running beside another. Throws RunLockBusyError
 * naming the holder when another run holds it.
 */
export async function holdRunLease(store: ObjectStore, holder: string, isHolderGone?: (holder: string) => Promise<boolean>): Promise<Lease> {
  const outcome = await acquireLease(store, RUN_LEASE, { holder, ttlMs: RUN_LEASE_TTL_MS, ...(isHolderGone ? { isHolderGone } : {}) });
  if (outcome.acquired) return outcome.lease;
  const { holder: other, acquired_at: since, expires_at: until } = outcome.heldBy;
  throw new RunLockBusyError(`another run holds the lake: ${other}, since ${since} (until ${until} at the latest)`);
}
