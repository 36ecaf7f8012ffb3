import { createHash } from 'node:crypto';

/**
 * Randomised holdout assignment. A customer selected for a campaign is held out (logged, not
 * messaged) when their draw for that campaign falls below the campaign's holdout share. The
 * draw is a pure function of (salt, campaign, customer_id): the same customer lands in the same
 * group of a campaign on every run, on every machine and in every engine, until the salt
 * changes; and it is independent of everything the campaign rules look at, which is what makes
 * the holdout a fair comparison group.
 */

/** 2^53: the draw keeps the top 53 bits of the hash, as many as a double holds exactly. */
const DRAW_SCALE = 2 ** 53;

/**
 * The customer's draw for a campaign, uniform in [0, 1): the first 53 bits of
 * SHA-256(salt U+001F campaign U+001F customer_id), read as a big-endian integer, over 2^53.
 */
export function holdoutDraw(salt: string, campaign: string, customerId: string): number {
  const digest = createHash('sha256').update(`${salt}\u001f${campaign}\u001f${customerId}`).digest();
  const high = digest.readUInt32BE(0);
  const low = digest.readUInt32BE(4) >>> 11;
  return (high * 2 ** 21 + low) / DRAW_SCALE;
}

/** Whether the customer is in the campaign's holdout group at this share (0 holds out no one). */
export function isHeldOut(salt: string, campaign: string, customerId: string, share: number): boolean {
  return holdoutDraw(salt, campaign, customerId) < share;
}
