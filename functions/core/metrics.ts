/**
 * The CloudWatch metrics the functions publish (Powertools, with the dimension service = the
 * function's folder name) and the operations dashboard reads: one list, so the two agree.
 */
export const METRICS_NAMESPACE = 'CustomerMarketingPipeline';

export const PIPELINE_METRICS = {
  eventsAccepted: 'EventsAccepted',
  eventsRejected: 'EventsRejected',
  /** Queue events whose data could not be stored; the queue delivers them again. */
  eventsFailed: 'EventsFailed',
  messagesSent: 'CampaignMessagesSent',
  messagesFailed: 'CampaignMessagesFailed',
  customersHeldOut: 'CampaignCustomersHeldOut',
} as const;
