/**
 * murmur3's 32-bit finalizer: folds every bit of a hash into the low bits, which are all an
 * open-addressing table's power-of-two mask keeps. Shared by the ingest's table of first
 * deliveries and the CLV step's table of distinct histories.
 */
export function finalizedHash(hash: number): number {
  let value = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  value = Math.imul(value ^ (value >>> 13), 0xc2b2ae35);
  return value ^ (value >>> 16);
}
