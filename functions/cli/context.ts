import { isLocalHolderGone, localHolder } from '../local/local-holder.ts';
import { withLease } from '../core/lake/lease.ts';
import type { LeaseOptions, LeaseRecord, WaitOptions } from '../core/lake/lease.ts';
import { resolve } from 'node:path';
import { FilesystemObjectStore } from '../adapters/filesystem-store.ts';
import { loadConfig } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import type { PipelineConfig } from '../core/config.ts';

/** What every command gets: the lake, the validated config and where to write. */
export interface CommandContext {
  readonly lakeRoot: string;
  readonly store: FilesystemObjectStore;
  readonly config: PipelineConfig;
  readonly stdout: (text: string) => void;
  /** Progress and notices, for people; never data. */
  readonly stderr: (text: string) => void;
  /** True when stderr is a terminal, so a progress line can redraw itself. */
  readonly interactive: boolean;
}

export async function createContext(options: {
  lake?: string | undefined;
  config?: string | undefined;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  interactive: boolean;
}): Promise<CommandContext> {
  const lakeRoot = resolve(options.lake ?? process.env['PIPELINE_LAKE'] ?? 'lake');
  // DuckDB reads the lake through glob patterns: in the lake's own path these characters would
  // match other directories (a lake "lake*" would read "lake-old" too) or find nothing.
  const globCharacter = (process.platform === 'win32' ? /[*?[\]{}]/ : /[*?[\]{}\\]/).exec(lakeRoot);
  if (globCharacter) {
    throw new UsageError(
      `--lake ${JSON.stringify(lakeRoot)}: a lake path cannot contain ${JSON.stringify(globCharacter[0])} (the lake is read through glob patterns)`,
    );
  }
  // A file path, as --config takes; the Lambda functions get the JSON itself in PIPELINE_CONFIG.
  if (options.config === undefined && process.env['PIPELINE_CONFIG'] !== undefined && process.env['PIPELINE_CONFIG_FILE'] === undefined) {
    throw new UsageError('the command line reads its config file from $PIPELINE_CONFIG_FILE (or --config); $PIPELINE_CONFIG is what the Lambda functions take');
  }
  const config = await loadConfig(options.config ?? process.env['PIPELINE_CONFIG_FILE']);
  return {
    lakeRoot,
    store: new FilesystemObjectStore(lakeRoot),
    config,
    stdout: options.stdout,
    stderr: options.stderr,
    interactive: options.interactive,
  };
}

/**
 * How long a command waits for another process that holds the lake's run or publish lease
 * before it gives up naming that process.
 */
export const LOCAL_LEASE_WAIT_MS = 30 * 60_000;

/**
 * How a command holds one of the lake's leases (run: runs and compaction; publish) as a
 * process of this machine: another process holding it is waited for (and said so), one that
 * died is no obstacle.
 */
export function localLease(context: CommandContext, name: string): LeaseOptions & WaitOptions {
  return {
    holder: localHolder(),
    isHolderGone: isLocalHolderGone,
    // Long enough for any local run; a holder that died frees the lease at once anyway.
    ttlMs: 24 * 3_600_000,
    waitMs: LOCAL_LEASE_WAIT_MS,
    onWait: (heldBy: LeaseRecord) => context.stderr(`waiting for ${heldBy.holder}, which holds the lake's ${name} lease since ${heldBy.acquired_at}\n`),
  };
}

/** Runs `work` holding the lake's lease `name` (localLease). */
export function withLocalLease<T>(context: CommandContext, name: string, work: () => Promise<T>): Promise<T> {
  return withLease(context.store, name, localLease(context, name), work);
}

/** A progress reporter: redraws one line on a terminal, prints nothing when piped. */
export function progressLine(context: CommandContext): { update: (text: string) => void; done: () => void } {
  let shown = false;
  let last = 0;
  return {
    update(text) {
      if (!context.interactive) return;
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      shown = true;
      context.stderr(`\r\x1b[2K${text}`);
    },
    done() {
      if (shown) context.stderr('\r\x1b[2K');
      shown = false;
    },
  };
}
