import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../functions/core/demo/random.ts';
import { FirstDeliveries } from '../../functions/core/ingest/deliveries.ts';
import { EventIdList, eventIdText } from '../../functions/core/ingest/event-ids.ts';

const ids = (list: EventIdList) => {
  const taken = list.take();
  return Array.from({ length: taken.count }, (_, index) => ({
    text: eventIdText(taken.bytes, index === 0 ? 0 : taken.ends[index - 1]!, taken.ends[index]!),
    bytes: [...taken.bytes.subarray(index === 0 ? 0 : taken.ends[index - 1]!, taken.ends[index]!)],
    hash: taken.hashes[index],
  }));
};

describe('event ids as bytes (event-ids.ts)', () => {
  it('gives two ids the same bytes exactly when they are the same string, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const list = new EventIdList(1);
        list.addText(a);
        list.addText(b);
        const [first, second] = ids(list);
        expect(first!.text).toBe(a);
        expect(second!.text).toBe(b);
        expect(first!.bytes.join() === second!.bytes.join()).toBe(a === b);
      }),
      { numRuns: 2000, seed: 7 },
    );
    const list = new EventIdList(1);
    const awkward = ['a\ud800', 'a\udc00', 'a\ufffd', '', '\ufeffabc', 'abc'];
    for (const id of awkward) list.addText(id);
    // A leading U+FEFF is part of the id, not a byte-order mark to drop.
    expect(ids(list).map((id) => id.text)).toEqual(awkward);
    expect(new Set(ids(list).map((id) => id.bytes.join())).size).toBe(awkward.length);
  });

  it('writes an ASCII id given as bytes (the fast path) as it writes the same id given as text', () => {
    const bytes = new TextEncoder().encode('{"event_id":"6c66ea4a-413b"}');
    const list = new EventIdList(1);
    list.addBytes(bytes, 13, 26);
    list.addText('6c66ea4a-413b');
    const [fromBytes, fromText] = ids(list);
    expect(fromBytes).toEqual(fromText);
  });
});

describe('first deliveries (deliveries.ts)', () => {
  it('decides first, repeat and conflict as a Map of the ids would, across the table growing', () => {
    const random = new Random(11);
    const seen = new FirstDeliveries();
    const reference = new Map<string, { fingerprint: number; line: number }>();
    for (let line = 1; line <= 60_000; line += 1) {
      const id = random.chance(0.01) ? `é-${random.integer(0, 50)}\ud83d` : `evt-${random.integer(0, 40_000)}`;
      const fingerprint = random.integer(0, 1);
      const earlier = reference.get(id);
      const verdict = seen.decideText(id, fingerprint, line);
      if (!earlier) {
        reference.set(id, { fingerprint, line });
        expect(verdict).toEqual({ kind: 'first' });
      } else if (earlier.fingerprint === fingerprint) expect(verdict).toEqual({ kind: 'repeat' });
      else
        expect(verdict).toEqual({
          kind: 'conflict',
          reason: `event_id: ${JSON.stringify(id)} was already received on line ${earlier.line} of this file with different content`,
          earlierLine: earlier.line,
        });
    }
    expect(seen.size).toBe(reference.size);
    expect(seen.size).toBeGreaterThan(20_000);
  });
});
