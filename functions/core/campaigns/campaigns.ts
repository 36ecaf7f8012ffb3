import type { PipelineConfig } from '../config.ts';

/** The campaigns, by the name used in tables and messages, with their config key. */
export const CAMPAIGNS = {
  win_back: 'winBack',
  churn_risk: 'churnRisk',
  loyalty_upgrade: 'loyaltyUpgrade',
  referral_ask: 'referralAsk',
  service_recovery: 'serviceRecovery',
  second_purchase: 'secondPurchase',
} as const satisfies Record<string, keyof PipelineConfig['campaigns']>;

export type CampaignName = keyof typeof CAMPAIGNS;
export const CAMPAIGN_NAMES = Object.keys(CAMPAIGNS) as CampaignName[];

/**
 * What each campaign asks the customer to do, and so the outcome its results are read on:
 * 'purchase' (conversion: uplift) or 'referral' (bringing a new customer: referral_uplift).
 */
export const CAMPAIGN_ASKS = {
  win_back: 'purchase',
  churn_risk: 'purchase',
  loyalty_upgrade: 'purchase',
  referral_ask: 'referral',
  service_recovery: 'purchase',
  second_purchase: 'purchase',
} as const satisfies Record<CampaignName, 'purchase' | 'referral'>;

/**
 * A campaign_outcomes or campaign_results row's figures for what the campaign asks (its asks_for
 * column): the conversion ones, or the referral ones for a campaign that asks for a referral.
 */
export function askedOutcome(row: Record<string, unknown>) {
  const referral = row['asks_for'] === 'referral';
  const prefix = referral ? 'referral_' : '';
  const rate = referral ? 'referral_rate' : 'conversion_rate';
  return {
    treatmentRate: row[`treatment_${rate}`],
    holdoutRate: row[`holdout_${rate}`],
    uplift: row[`${prefix}uplift`],
    low: row[`${prefix}uplift_ci_low`],
    high: row[`${prefix}uplift_ci_high`],
    pValue: row[`${prefix}p_value`],
    /** What the message added: net revenue for a purchase, new customers for a referral. */
    incremental: referral
      ? { value: row['incremental_referred_customers'], unit: 'new customers' as const }
      : { value: row['incremental_revenue'], unit: 'revenue' as const },
  };
}

const snake = (key: string) => key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/**
 * The campaign rules as SQL literals, named <campaign>_<setting> (win_back_cooldown_days, ...).
 * Every value comes from the validated config: booleans, numbers and segment names from a
 * fixed list, so each one is safe to place in SQL as it is.
 */
export function campaignSqlParameters(config: PipelineConfig): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (const [campaign, key] of Object.entries(CAMPAIGNS)) {
    for (const [setting, value] of Object.entries(config.campaigns[key])) {
      const name = `${campaign}_${snake(setting)}`;
      // Optional settings left unset (a campaign's holdoutShare) have no literal; no SQL reads them.
      if (value === undefined) continue;
      if (typeof value === 'boolean') parameters[name] = value ? 'true' : 'false';
      else if (typeof value === 'number' && Number.isFinite(value)) parameters[name] = String(value);
      else if (Array.isArray(value)) parameters[name] = value.map((item) => `'${String(item).replace(/[^a-z_]/g, '')}'`).join(', ');
      else throw new Error(`campaign setting ${name} has no SQL form`);
    }
  }
  // An empty list is no SQL: a null matches no campaign.
  parameters['referral_asking_campaigns'] =
    CAMPAIGN_NAMES.filter((campaign) => CAMPAIGN_ASKS[campaign] === 'referral')
      .map((campaign) => `'${campaign}'`)
      .join(', ') || 'cast(null as varchar)';
  parameters['conversion_window_days'] = String(Math.trunc(config.campaigns.conversionWindowDays));
  parameters['results_trailing_days'] = String(Math.trunc(config.campaigns.resultsTrailingDays));
  return parameters;
}

/** Cooldown in days per campaign name, from the config. */
export function campaignCooldowns(config: PipelineConfig): Record<string, number> {
  return Object.fromEntries(Object.entries(CAMPAIGNS).map(([campaign, key]) => [campaign, config.campaigns[key].cooldownDays]));
}

/** Share of each campaign's audience held out: the campaign's own holdoutShare, or the global share. */
export function campaignHoldoutShares(config: PipelineConfig): Record<string, number> {
  return Object.fromEntries(
    Object.entries(CAMPAIGNS).map(([campaign, key]) => [campaign, config.campaigns[key].holdoutShare ?? config.campaigns.holdout.share]),
  );
}

/** What the publisher needs to draw holdouts: the salt and each campaign's share. */
export function campaignHoldout(config: PipelineConfig): { salt: string; shares: Record<string, number> } {
  return { salt: config.campaigns.holdout.salt, shares: campaignHoldoutShares(config) };
}
