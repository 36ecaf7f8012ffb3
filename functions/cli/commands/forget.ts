import { readFile } from 'node:fs/promises';
import { PUBLISH_LEASE } from '../../core/campaigns/publish.ts';
import { forgetCustomers } from '../../core/erasure/forget.ts';
import type { ForgetResult } from '../../core/erasure/forget.ts';
import { InputFileError, UsageError } from '../../core/errors.ts';
import { RUN_LEASE } from '../../core/jobs/run-request.ts';
import { lakeLayout } from '../../core/lake/layout.ts';
import { withLocalLease } from '../context.ts';
import type { CommandContext } from '../context.ts';

/** The ids of a file: one per line, exactly as the events spell them; blank lines skipped. */
async function idsInFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputFileError(`--file ${path}: ${(error as Error).message}`);
  }
  return text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
    .filter((line) => line.trim() !== '');
}

const count = (value: number, one: string, many = `${one}s`) => `${value.toLocaleString('en-US')} ${value === 1 ? one : many}`;

/** What a request removed, per place, for the person who asked. */
export function describeErasure(result: ForgetResult, customers: number): string {
  const removed = result.request.removed!;
  const curated = Object.entries(removed.curated)
    .map(([table, rows]) => `${table} ${rows.toLocaleString('en-US')}`)
    .join(', ');
  return [
    `forget: ${count(customers, 'customer')} erased, request ${result.request.request_id} (${lakeLayout.erasureRequest(result.request.request_id)})`,
    `  raw events: ${Object.entries(removed.raw)
      .map(([type, rows]) => `${type} ${count(rows, 'row')}`)
      .join(', ')}; referred_by cleared on ${count(removed.referralsCleared, "another customer's order", "other customers' orders")}`,
    `  refused records: ${count(removed.rejected, 'record')}; published log: ${count(removed.published, 'record')}; outbox: ${count(removed.outbox, 'message')}`,
    `  curated rows: ${curated === '' ? 'none' : curated}; cells cleared in other customers' rows: ${removed.curatedCellsCleared.toLocaleString('en-US')}`,
    `  input files kept under landing/: ${count(removed.landing, 'record')} removed${removed.unreadable.length === 0 ? '' : `; could not read through, check by hand: ${removed.unreadable.join(', ')}`}`,
    `  reports deleted: ${removed.reports.toLocaleString('en-US')}; objects rewritten: ${removed.objectsRewritten.toLocaleString('en-US')}, deleted: ${removed.objectsDeleted.toLocaleString('en-US')}`,
    ...(result.withoutEvents === 0 ? [] : [`  ${count(result.withoutEvents, 'id')} had no event in the lake: check the spelling (ids are matched exactly)`]),
    '  later events of these customers are refused at ingest; run the dates you serve again so that totals leave them out',
    '',
  ].join('\n');
}

/** `pipeline forget ID... [--file FILE]`: erases customers from the lake (docs/erasure.md). */
export async function forgetCommand(context: CommandContext, args: readonly string[], file: string | undefined): Promise<number> {
  const ids = [...args, ...(file === undefined ? [] : await idsInFile(file))];
  if (ids.length === 0) throw new UsageError('forget needs customer ids: pipeline forget ID... or --file FILE (one id per line)');
  const customers = new Set(ids).size;
  // Not while a run reads the raw files or writes the tables it would rewrite, nor while a
  // publish writes the log and the outbox; the leases are taken in the order a run takes them.
  const result = await withLocalLease(context, RUN_LEASE, () => withLocalLease(context, PUBLISH_LEASE, () => forgetCustomers(context.store, ids)));
  context.stdout(describeErasure(result, customers));
  return 0;
}
