import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CAMPAIGN_NAMES } from './campaigns.ts';

/** Version of the message contract; bumped only for changes a consumer must know about. */
export const CAMPAIGN_MESSAGE_SCHEMA_VERSION = 1;

/**
 * The campaign message contract (docs/campaign-messages.md): one message per (campaign, customer,
 * as_of). Downstream services validate with this schema, or with the JSON Schema generated
 * from it (docs/campaign-message.schema.json). Consumers should ignore fields they do not know.
 */
export const campaignMessageSchema = z
  .object({
    schema_version: z.literal(CAMPAIGN_MESSAGE_SCHEMA_VERSION),
    message_id: z.uuid().describe('Deterministic from (campaign, customer_id, as_of): a retry or re-run repeats it. Dedupe on it.'),
    campaign: z.enum(CAMPAIGN_NAMES),
    customer_id: z.string().min(1),
    as_of: z.iso.date().describe('The run date whose data chose this action.'),
    priority: z.int().min(1).describe('Higher wins; a customer gets at most one campaign per run.'),
    reason: z.string().min(1).describe('Why the customer qualified, for people.'),
    metrics: z
      .object({
        net_revenue: z.number(),
        purchases: z.int().min(1),
        days_since_last_purchase: z.int().min(0),
        last_nps_score: z.int().min(0).max(10).nullable(),
        segment: z.string().nullable().describe('RFM segment'),
        rank_in_campaign: z.int().min(1).describe('1 = the most valuable customer in this campaign for this run'),
      })
      .describe('The figures behind the decision, as of as_of.'),
  })
  .meta({ title: 'CampaignMessage', description: 'A per-customer campaign action published by the customer-marketing pipeline.' });

export type CampaignMessage = z.output<typeof campaignMessageSchema>;

/** The JSON Schema consumers can validate against; docs/campaign-message.schema.json holds it. */
export function campaignMessageJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(campaignMessageSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}

/** A fixed namespace for this product's message ids (UUID v5, RFC 9562). */
const MESSAGE_NAMESPACE = '6f1c1d2e-8c4b-5a7e-9b1a-2f3e4d5c6b7a';

/** UUID v5 of (campaign, customer_id, as_of): the same action always has the same id. */
export function campaignMessageId(campaign: string, customerId: string, asOf: string): string {
  const namespace = Buffer.from(MESSAGE_NAMESPACE.replaceAll('-', ''), 'hex');
  const hash = createHash('sha1').update(namespace).update(`${campaign}\u001f${customerId}\u001f${asOf}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A row of the campaign_audience table, as read back from the lake. */
export interface AudienceRow {
  campaign: string;
  customer_id: string;
  priority: number;
  reason: string;
  rank_in_campaign: number;
  net_revenue: number;
  purchases: number;
  days_since_last_purchase: number;
  last_nps_score: number | null;
  segment: string | null;
  as_of: string;
}

/** Builds and validates the message for one audience row. */
export function toCampaignMessage(row: AudienceRow): CampaignMessage {
  return campaignMessageSchema.parse({
    schema_version: CAMPAIGN_MESSAGE_SCHEMA_VERSION,
    message_id: campaignMessageId(row.campaign, row.customer_id, row.as_of),
    campaign: row.campaign,
    customer_id: row.customer_id,
    as_of: row.as_of,
    priority: row.priority,
    reason: row.reason,
    metrics: {
      net_revenue: row.net_revenue,
      purchases: row.purchases,
      days_since_last_purchase: row.days_since_last_purchase,
      last_nps_score: row.last_nps_score,
      segment: row.segment,
      rank_in_campaign: row.rank_in_campaign,
    },
  });
}
