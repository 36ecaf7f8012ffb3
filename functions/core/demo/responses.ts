import { CAMPAIGN_ASKS } from '../campaigns/campaigns.ts';
import type { CampaignName } from '../campaigns/campaigns.ts';
import { isoWithOffset } from './generate.ts';
import { Random } from './random.ts';

/**
 * The demo's campaign effects: the chance that a messaged customer does what the message asks
 * (CAMPAIGN_ASKS), within the conversion window after it. Most campaigns ask for an order;
 * referral_ask asks the customer to bring a friend, whose first order names them as referrer. Held-out customers get
 * no message and so never respond; everyone keeps buying (and referring) as the generated data
 * says. loyalty_upgrade has no effect at all, so the demo shows what a campaign that does not
 * work looks like.
 */
export const DEMO_CAMPAIGN_EFFECTS: Readonly<Record<CampaignName, number>> = {
  win_back: 0.2,
  churn_risk: 0.15,
  second_purchase: 0.25,
  service_recovery: 0.1,
  referral_ask: 0.2,
  loyalty_upgrade: 0,
};

export interface CampaignResponseOptions {
  readonly seed: number;
  /** The as_of whose messages are answered. */
  readonly sendDate: string;
  /** Customers who got a message that day, with its campaign. */
  readonly messaged: readonly { readonly campaign: string; readonly customer_id: string }[];
  /** Responses fall on one of the days after the send, up to this many. */
  readonly windowDays: number;
  /** No response after this day (the end of the demo's data). */
  readonly lastDate: string;
}

const DAY_MS = 86_400_000;

/**
 * Order events of the customers who respond to their message, each on a day after the send
 * within the window and tagged with the campaign as utm_campaign (kept in extras): an order of
 * the messaged customer, or for a referral the first order of a new customer who names them in
 * referred_by. Deterministic for a seed and send date.
 */
export function simulateCampaignResponses(options: CampaignResponseOptions): string[] {
  const random = new Random(options.seed + Date.parse(`${options.sendDate}T00:00:00Z`) / DAY_MS);
  const sendDay = Date.parse(`${options.sendDate}T00:00:00Z`);
  const lastDays = Math.round((Date.parse(`${options.lastDate}T00:00:00Z`) - sendDay) / DAY_MS);
  const days = Math.min(options.windowDays, lastDays);
  const messaged = [...options.messaged].sort((a, b) => a.campaign.localeCompare(b.campaign) || a.customer_id.localeCompare(b.customer_id));
  const lines: string[] = [];
  for (const { campaign, customer_id: customerId } of messaged) {
    const chance = DEMO_CAMPAIGN_EFFECTS[campaign as CampaignName] ?? 0;
    if (days < 1 || !random.chance(chance)) continue;
    const at = sendDay + random.integer(1, days) * DAY_MS + random.integer(8 * 3600, 22 * 3600) * 1000;
    const id = `${options.sendDate}-${String(lines.length + 1).padStart(5, '0')}`;
    const buyer =
      CAMPAIGN_ASKS[campaign as CampaignName] === 'referral' ? { customer_id: `cust-ref-${id}`, referred_by: customerId } : { customer_id: customerId };
    lines.push(
      JSON.stringify({
        event_id: `evt-resp-${id}`,
        order_id: `ord-resp-${id}`,
        ...buyer,
        occurred_at: isoWithOffset(at, '+00:00'),
        status: 'placed',
        total: Math.round(random.gamma(6, 55 / 6) * 100) / 100,
        currency: 'USD',
        channel: 'web',
        utm_campaign: campaign,
      }),
    );
  }
  return lines;
}
