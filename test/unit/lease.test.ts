import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { acquireLease, holdsLease, LeaseBusyError, releaseLease, withLease } from '../../functions/core/lake/lease.ts';
import type { ObjectStore } from '../../functions/core/ports.ts';
import { temporaryDirectory } from '../support/cli.ts';
import { MemoryObjectStore } from '../support/memory-store.ts';

/**
 * Leases (functions/core/lake/lease.ts): one holder at a time, whatever the interleaving of the
 * store calls of several acquirers; free again when released, expired or its holder is gone.
 */
const HOUR = 3_600_000;
const at = (iso: string) => () => new Date(iso);

describe('a lease', () => {
  it('is held by one holder until released, and tells the others who holds it', async () => {
    const store = new MemoryObjectStore();
    const first = await acquireLease(store, 'run', { holder: 'a', ttlMs: HOUR, now: at('2026-01-01T00:00:00Z') });
    expect(first).toMatchObject({ acquired: true, lease: { generation: 1, record: { holder: 'a', expires_at: '2026-01-01T01:00:00.000Z' } } });
    expect(await acquireLease(store, 'run', { holder: 'b', ttlMs: HOUR, now: at('2026-01-01T00:30:00Z') })).toMatchObject({
      acquired: false,
      heldBy: { holder: 'a' },
    });
    // Another name is another lease.
    expect(await acquireLease(store, 'publish', { holder: 'b', ttlMs: HOUR })).toMatchObject({ acquired: true });
    expect(await releaseLease(store, 'run', 'b')).toBe(false);
    expect(await releaseLease(store, 'run', 'a')).toBe(true);
    expect(await releaseLease(store, 'run', 'a')).toBe(false);
    expect(await acquireLease(store, 'run', { holder: 'b', ttlMs: HOUR })).toMatchObject({ acquired: true, lease: { generation: 2 } });
  });

  it('stays with a holder that asks again (a retried call), in the same generation, until it expires', async () => {
    const store = new MemoryObjectStore();
    await acquireLease(store, 'run', { holder: 'a', ttlMs: HOUR, now: at('2026-01-01T00:00:00Z') });
    expect(await acquireLease(store, 'run', { holder: 'a', ttlMs: HOUR, now: at('2026-01-01T00:30:00Z') })).toMatchObject({
      acquired: true,
      lease: { generation: 1 },
    });
    expect(await holdsLease(store, 'run', 'a', 1, new Date('2026-01-01T00:30:00Z'))).toBe(true);
    // Expired, its holder must win a new generation like anyone else; the old one is held by no one.
    expect(await holdsLease(store, 'run', 'a', 1, new Date('2026-01-01T01:00:00Z'))).toBe(false);
    expect(await acquireLease(store, 'run', { holder: 'a', ttlMs: HOUR, now: at('2026-01-01T01:00:00Z') })).toMatchObject({
      acquired: true,
      lease: { generation: 2 },
    });
    expect(await holdsLease(store, 'run', 'a', 1, new Date('2026-01-01T01:00:00Z'))).toBe(false);
    expect(await holdsLease(store, 'run', 'b', 2, new Date('2026-01-01T01:00:00Z'))).toBe(false);
  });

  it('is free once it expired, or once its holder is known to have ended, and the old holder cannot release the new one', async () => {
    const store = new MemoryObjectStore();
    await acquireLease(store, 'run', { holder: 'crashed', ttlMs: HOUR, now: at('2026-01-01T00:00:00Z') });
    expect(await acquireLease(store, 'run', { holder: 'b', ttlMs: HOUR, now: at('2026-01-01T00:59:59Z') })).toMatchObject({ acquired: false });
    expect(await acquireLease(store, 'run', { holder: 'b', ttlMs: HOUR, now: at('2026-01-01T01:00:00Z') })).toMatchObject({
      acquired: true,
      lease: { generation: 2 },
    });
    expect(await releaseLease(store, 'run', 'crashed')).toBe(false);
    const gone = async (holder: string) => holder === 'b';
    expect(await acquireLease(store, 'run', { holder: 'c', ttlMs: HOUR, now: at('2026-01-01T01:00:01Z'), isHolderGone: gone })).toMatchObject({
      acquired: true,
      lease: { generation: 3 },
    });
  });

  it('is won by exactly one of many acquirers racing on a directory (exclusive links)', async () => {
    const directory = await temporaryDirectory();
    try {
      const store = new FilesystemObjectStore(directory.path);
      for (let round = 0; round < 5; round += 1) {
        const outcomes = await Promise.all(Array.from({ length: 12 }, (_, index) => acquireLease(store, 'run', { holder: `h${round}-${index}`, ttlMs: HOUR })));
        const winners = outcomes.filter((outcome) => outcome.acquired);
        expect(winners).toHaveLength(1);
        for (const outcome of outcomes) if (!outcome.acquired) expect(outcome.heldBy.holder).toBe(winners[0]!.acquired && winners[0]!.lease.record.holder);
        expect(await releaseLease(store, 'run', winners[0]!.acquired ? winners[0]!.lease.record.holder : '')).toBe(true);
      }
    } finally {
      await directory.cleanup();
    }
  });

  it('never has two holders at once, in any interleaving of the store calls of acquirers and releasers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 3 }), async (scheduler, holders, rounds) => {
        const memory = new MemoryObjectStore();
        // Every store call resolves when the scheduler says, so the acquirers' calls interleave every which way.
        const store: ObjectStore = {
          put: (key, body) => scheduler.schedule(memory.put(key, body), `put ${key}`),
          get: (key) => scheduler.schedule(memory.get(key), `get ${key}`),
          list: (prefix) => scheduler.schedule(memory.list(prefix), `list ${prefix}`),
          delete: (keys) => scheduler.schedule(memory.delete(keys), 'delete'),
          putIfAbsent: (key, body) =>
            scheduler.schedule(
              Promise.resolve().then(() => memory.putIfAbsent(key, body)),
              `putIfAbsent ${key}`,
            ),
        };
        let inside = 0;
        let most = 0;
        let entered = 0;
        const holder = async (name: string) => {
          for (let round = 0; round < rounds; round += 1) {
            const outcome = await acquireLease(store, 'run', { holder: `${name}-${round}`, ttlMs: HOUR });
            if (!outcome.acquired) continue;
            inside += 1;
            entered += 1;
            most = Math.max(most, inside);
            await scheduler.schedule(Promise.resolve(), `${name} works`);
            inside -= 1;
            await releaseLease(store, 'run', `${name}-${round}`);
          }
        };
        const all = Promise.all(Array.from({ length: holders }, (_, index) => holder(`h${index}`)));
        await scheduler.waitFor(all);
        expect(most).toBeLessThanOrEqual(1);
        expect(entered).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('waits for a holder to finish, gives up naming the holder, and is released however the work ends', async () => {
    const store = new MemoryObjectStore();
    await acquireLease(store, 'publish', { holder: 'other', ttlMs: HOUR });
    let slept = 0;
    const waiting = { holder: 'me', ttlMs: HOUR, waitMs: 10_000, pollMs: 1000, sleep: async () => void (slept += 1) };
    await expect(withLease(store, 'publish', waiting, async () => 'never')).rejects.toThrow(LeaseBusyError);
    expect(slept).toBe(10);
    await expect(withLease(store, 'publish', { holder: 'me', ttlMs: HOUR }, async () => 'never')).rejects.toThrow(
      /^publish is held by other since .* \(until .* at the latest\)$/,
    );
    // The holder finishes while the other waits: the waiter goes on.
    const release = { ...waiting, sleep: async () => void (await releaseLease(store, 'publish', 'other')) };
    expect(await withLease(store, 'publish', release, async () => 'done')).toBe('done');
    await expect(withLease(store, 'publish', { holder: 'me', ttlMs: HOUR }, async () => Promise.reject(new Error('work failed')))).rejects.toThrow(
      'work failed',
    );
    expect(await acquireLease(store, 'publish', { holder: 'next', ttlMs: HOUR })).toMatchObject({ acquired: true });
  });

  it("is the acquirer's own when its create landed but the reply was lost, and a retry was told the key exists", async () => {
    const memory = new MemoryObjectStore();
    // The first conditional write lands and its reply is lost: the retry (as the SDK would make it) finds the key.
    const lossy: ObjectStore = {
      put: memory.put.bind(memory),
      get: memory.get.bind(memory),
      list: memory.list.bind(memory),
      delete: memory.delete.bind(memory),
      putIfAbsent: async (key, body) => {
        await memory.putIfAbsent(key, body);
        return memory.putIfAbsent(key, body);
      },
    };
    expect(await acquireLease(lossy, 'run', { holder: 'a', ttlMs: HOUR })).toMatchObject({ acquired: true, lease: { generation: 1, record: { holder: 'a' } } });
    expect(await acquireLease(lossy, 'run', { holder: 'b', ttlMs: HOUR })).toMatchObject({ acquired: false, heldBy: { holder: 'a' } });
  });

  it('is given up by an acquirer that created an old generation from a stale listing, while a newer one exists', async () => {
    const memory = new MemoryObjectStore();
    for (let index = 0; index < 103; index += 1) {
      await acquireLease(memory, 'run', { holder: `h${index}`, ttlMs: HOUR });
      await releaseLease(memory, 'run', `h${index}`);
    }
    await acquireLease(memory, 'run', { holder: 'current', ttlMs: HOUR });
    // Generation 3 was pruned long ago; a slow acquirer that listed back then now creates it.
    expect(await memory.list('locks/run/000000000003')).toEqual([]);
    let listings = 0;
    const stale: ObjectStore = {
      put: memory.put.bind(memory),
      get: memory.get.bind(memory),
      delete: memory.delete.bind(memory),
      putIfAbsent: memory.putIfAbsent.bind(memory),
      list: async (prefix) => ((listings += 1) === 1 ? ['locks/run/000000000002.json', 'locks/run/000000000002.released'] : memory.list(prefix)),
    };
    expect(await acquireLease(stale, 'run', { holder: 'slow', ttlMs: HOUR })).toMatchObject({ acquired: false, heldBy: { holder: 'current' } });
    expect(await memory.list('locks/run/000000000003')).toEqual(['locks/run/000000000003.json', 'locks/run/000000000003.released']);
    expect(await releaseLease(memory, 'run', 'current')).toBe(true);
  });

  it('keeps the last hundred generations only', async () => {
    const store = new MemoryObjectStore();
    for (let index = 0; index < 130; index += 1) {
      await acquireLease(store, 'run', { holder: `h${index}`, ttlMs: HOUR });
      await releaseLease(store, 'run', `h${index}`);
    }
    const keys = await store.list('locks/run/');
    expect(keys.filter((key) => key.endsWith('.json'))).toHaveLength(100);
    expect(keys.at(-1)).toBe('locks/run/000000000130.released');
  });
});
