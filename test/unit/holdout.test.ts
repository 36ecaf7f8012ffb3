import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { campaignHoldoutShares } from '../../functions/core/campaigns/campaigns.ts';
import { holdoutDraw, isHeldOut } from '../../functions/core/campaigns/holdout.ts';
import { defaultConfig, parseConfig } from '../../functions/core/config.ts';

const customers = Array.from({ length: 100_000 }, (_, index) => `cust-${index}`);
const heldShare = (salt: string, campaign: string, share: number) =>
  customers.filter((customer) => isHeldOut(salt, campaign, customer, share)).length / customers.length;

describe('holdout assignment', () => {
  it('is the top 53 bits of SHA-256(salt, campaign, customer_id) over 2^53', () => {
    // Computed another way: the hex digest as one big integer, shifted.
    const digest = createHash('sha256').update('salt\u001fwin_back\u001fcust-42').digest('hex');
    const expected = Number(BigInt(`0x${digest.slice(0, 16)}`) >> 11n) / 2 ** 53;
    expect(holdoutDraw('salt', 'win_back', 'cust-42')).toBe(expected);
  });

  it('holds out the configured share, independently per campaign', () => {
    // 100,000 customers: the binomial standard error of a 10 % share is under 0.001.
    const salt = defaultConfig.campaigns.holdout.salt;
    expect(heldShare(salt, 'win_back', 0.1)).toBeCloseTo(0.1, 2);
    expect(heldShare(salt, 'churn_risk', 0.5)).toBeCloseTo(0.5, 2);
    expect(heldShare(salt, 'win_back', 0)).toBe(0);
    const inBoth = customers.filter((customer) => isHeldOut(salt, 'win_back', customer, 0.1) && isHeldOut(salt, 'churn_risk', customer, 0.1)).length;
    expect(inBoth / customers.length).toBeCloseTo(0.01, 2);
  });

  it('keeps a customer in the same group on every run until the salt changes', () => {
    const first = customers.slice(0, 2000).map((customer) => isHeldOut('a', 'referral_ask', customer, 0.2));
    expect(customers.slice(0, 2000).map((customer) => isHeldOut('a', 'referral_ask', customer, 0.2))).toEqual(first);
    const resalted = customers.slice(0, 2000).map((customer) => isHeldOut('b', 'referral_ask', customer, 0.2));
    const moved = first.filter((held, index) => held !== resalted[index]).length;
    // Two independent 20 % draws disagree for 2 x 0.2 x 0.8 = 32 % of customers.
    expect(moved / 2000).toBeGreaterThan(0.25);
    expect(moved / 2000).toBeLessThan(0.39);
  });

  it('takes a campaign holdoutShare over the global share', () => {
    const config = parseConfig({ campaigns: { holdout: { share: 0.2 }, loyaltyUpgrade: { holdoutShare: 0 }, winBack: { holdoutShare: 0.5 } } });
    expect(campaignHoldoutShares(config)).toEqual({
      win_back: 0.5,
      churn_risk: 0.2,
      loyalty_upgrade: 0,
      referral_ask: 0.2,
      service_recovery: 0.2,
      second_purchase: 0.2,
    });
  });
});
