import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryCsv, temporaryDirectory } from '../support/cli.ts';

/**
 * One enormous line, through `pipeline ingest` in a process of its own, so that its peak RSS can
 * be held to a bound. Measured on the 2-core development machine: a 50 MB line took 340 MB as
 * plain JSON Lines (the threaded path), 190 MB gzipped (one thread); a 200 MB line 348 MB.
 * Before records were capped at 1 MiB the 50 MB line took 880 MB, and memory grew with it.
 */

const MiB = 1024 * 1024;
const PEAK_BOUND = 512 * MiB;
const root = join(import.meta.dirname, '..', '..');

let directory: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ path: directory, cleanup } = await temporaryDirectory('huge-'));
});
afterAll(async () => cleanup());

const event = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ event_id: id, order_id: `o-${id}`, customer_id: `c-${id}`, occurred_at: '2024-03-01T10:00:00Z', total: 10, currency: 'EUR', ...extra });
const hugeEvent = (megabytes: number) => event('huge', { note: 'x'.repeat(megabytes * MiB) });

/** Runs `pipeline ingest` in a child process; returns its exit code, output and peak RSS. */
function ingestInChild(file: string, lake: string) {
  const child = spawnSync(
    process.execPath,
    ['--import', './test/support/report-peak-rss.mjs', 'functions/cli/pipeline.mjs', 'ingest', 'orders', file, '--lake', lake],
    {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 16 * MiB,
    },
  );
  const peak = Number(/peak-rss-bytes (\d+)/.exec(child.stderr)?.[1]);
  return { code: child.status, stdout: child.stdout, stderr: child.stderr, peak };
}

describe('a 50 MB line', () => {
  it.each([
    ['orders.jsonl', () => `${event('a')}\n${hugeEvent(50)}\n${event('b')}\n`],
    ['orders.jsonl.gz', () => gzipSync(`${event('a')}\n${hugeEvent(50)}\n${event('b')}\n`)],
    ['orders.json', () => `[${event('a')},\n${hugeEvent(50)},\n${event('b')}]`],
    [
      'orders.csv',
      () =>
        `event_id,order_id,customer_id,occurred_at,total,currency\na,o-a,c-a,2024-03-01T10:00:00Z,10,EUR\nhuge,o,c,2024-03-01T10:00:00Z,10,${'x'.repeat(50 * MiB)}\nb,o-b,c-b,2024-03-01T10:00:00Z,10,EUR\n`,
    ],
  ])('in %s is refused with its reason while the rest is stored, within the memory bound', async (name, content) => {
    const file = join(directory, name);
    writeFileSync(file, content());
    const lake = join(directory, `lake-${name}`);
    const outcome = ingestInChild(file, lake);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toMatch(/received 3, accepted 2 \(0 duplicates\), rejected 1/);
    expect(outcome.peak).toBeLessThan(PEAK_BOUND);
    const refused = await queryCsv(lake, 'select reason, length(payload) as kept from rejected_events');
    expect(refused).toEqual([{ reason: expect.stringMatching(/bytes, over the 1,048,576-byte limit for one record/), kept: '65536' }]);
    expect(await queryCsv(lake, 'select event_id from orders order by event_id')).toEqual([{ event_id: 'a' }, { event_id: 'b' }]);
  });

  it('costs no more memory than a line four times shorter: memory does not grow with the line', () => {
    const peaks = [50, 200].map((megabytes) => {
      const file = join(directory, `line-${megabytes}.jsonl`);
      writeFileSync(file, `${event('a')}\n${hugeEvent(megabytes)}\n`);
      const outcome = ingestInChild(file, join(directory, `lake-line-${megabytes}`));
      expect(outcome.code, outcome.stderr).toBe(0);
      return outcome.peak;
    });
    expect(peaks[1]! - peaks[0]!).toBeLessThan(64 * MiB);
  });
});
