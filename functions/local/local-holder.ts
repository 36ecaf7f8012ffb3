import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Lease holders on this machine: a process names itself by pid and host (plus a random tag,
 * so that two leases taken by one process are two holders), and a lease whose holder process
 * is no longer running on this host is free at once instead of when it expires: a run stopped
 * with Ctrl-C does not block the next one. Processes that share a lake must share a host name
 * only if they share process ids too (containers sharing a host name, each with its own process
 * ids, would take each other's leases for ended): give each container its own host name.
 */
export function localHolder(): string {
  return `pid ${process.pid} on ${hostname()} (${randomBytes(3).toString('hex')})`;
}

const HOLDER = /^pid (\d+) on (.+) \([0-9a-f]+\)$/;

/** True when `holder` is a process of this host that has ended; false when it runs, or cannot be told. */
export async function isLocalHolderGone(holder: string): Promise<boolean> {
  const match = HOLDER.exec(holder);
  if (!match || match[2] !== hostname()) return false;
  try {
    process.kill(Number(match[1]), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
