import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { campaignMessageId, campaignMessageSchema, toCampaignMessage } from '../../functions/core/campaigns/message.ts';
import type { AudienceRow } from '../../functions/core/campaigns/message.ts';
import { MESSAGE_SCHEMA_FILE, messageSchemaText } from '../../functions/cli/write-message-schema.ts';

const row: AudienceRow = {
  campaign: 'win_back',
  customer_id: 'cust-1',
  priority: 80,
  reason: 'no purchase for 120 days',
  rank_in_campaign: 3,
  net_revenue: 812.5,
  purchases: 4,
  days_since_last_purchase: 120,
  last_nps_score: null,
  segment: 'at_risk',
  as_of: '2024-06-30',
};

describe('campaign message contract', () => {
  it('round-trips through JSON and validates', () => {
    const message = toCampaignMessage(row);
    const parsed = campaignMessageSchema.parse(JSON.parse(JSON.stringify(message)));
    expect(parsed).toEqual(message);
    expect(message).toMatchObject({ schema_version: 1, campaign: 'win_back', customer_id: 'cust-1', as_of: '2024-06-30', priority: 80 });
    expect(message.metrics).toEqual({
      net_revenue: 812.5,
      purchases: 4,
      days_since_last_purchase: 120,
      last_nps_score: null,
      segment: 'at_risk',
      rank_in_campaign: 3,
    });
  });

  it('has a deterministic UUID v5 message_id per (campaign, customer, as_of)', () => {
    const id = campaignMessageId('win_back', 'cust-1', '2024-06-30');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(campaignMessageId('win_back', 'cust-1', '2024-06-30')).toBe(id);
    expect(toCampaignMessage(row).message_id).toBe(id);
    expect(
      new Set([
        id,
        campaignMessageId('churn_risk', 'cust-1', '2024-06-30'),
        campaignMessageId('win_back', 'cust-2', '2024-06-30'),
        campaignMessageId('win_back', 'cust-1', '2024-07-01'),
      ]).size,
    ).toBe(4);
    // The separator keeps ("a", "bc") and ("ab", "c") apart.
    expect(campaignMessageId('win_back', 'a|b', 'c')).not.toBe(campaignMessageId('win_back', 'a', 'b|c'));
  });

  it('refuses messages that break the contract', () => {
    const message = toCampaignMessage(row);
    expect(campaignMessageSchema.safeParse({ ...message, campaign: 'spam' }).success).toBe(false);
    expect(campaignMessageSchema.safeParse({ ...message, as_of: '2024-02-30' }).success).toBe(false);
    expect(campaignMessageSchema.safeParse({ ...message, schema_version: 2 }).success).toBe(false);
    expect(() => toCampaignMessage({ ...row, purchases: 0 })).toThrow();
  });

  it('is published as a JSON Schema that is up to date (npm run generate)', async () => {
    const checkedIn = await readFile(MESSAGE_SCHEMA_FILE, 'utf8');
    expect(checkedIn, 'docs/campaign-message.schema.json is stale: run npm run generate').toBe(messageSchemaText());
    const schema = JSON.parse(checkedIn);
    expect(schema.required).toEqual(['schema_version', 'message_id', 'campaign', 'customer_id', 'as_of', 'priority', 'reason', 'metrics']);
  });
});
