import { EVENT_TYPES } from '../events/schemas.ts';
import { atLeast, between, oneOf } from './types.ts';
import type { ColumnDoc, TableDoc } from './types.ts';

/** The columns of both raw event tables after the event's own: where each delivery came from, and the partition. */
const deliveryColumns: readonly ColumnDoc[] = [
  {
    name: 'received_at',
    type: 'timestamp',
    description:
      'When the batch holding this delivery was received (UTC): the start of the ingest for a file given to the command line, ' +
      "the S3 event time for a file dropped under landing/, the start of the Lambda for queue messages. A batch's rows share it.",
  },
  {
    name: 'ingest_id',
    type: 'string',
    description:
      'The ingest batch that stored the row: one file, or one batch of queue messages. It begins with the UTC receipt time ' +
      "(20261122T053300123Z-k3j9x2) and names the batch's files; the batch's refused records carry it in rejected_events.",
  },
  {
    name: 'source',
    type: 'string',
    description: "Where the record came from: the file's name (command line), the object's key under landing/ (S3), or message:<SQS message id> (queue).",
  },
  {
    name: 'record_number',
    type: 'int',
    description: 'The 1-based position of the record in its file (the CSV header and blank lines not counted), or of the message in its batch.',
    tests: [atLeast(1)],
  },
  {
    name: 'dt',
    type: 'date',
    description:
      "The UTC date of received_at: the partition (raw/<table>/dt=YYYY-MM-DD/), as for rejected_events; not the event's date (occurred_at). " +
      'A late event is stored with the day it arrived.',
  },
];

const eventIdColumn: ColumnDoc = {
  name: 'event_id',
  type: 'string',
  description: 'The id the producer gave the event. Rows may repeat it: each delivery is kept, and the tables count the first one received.',
};

const occurredAtColumn: ColumnDoc = {
  name: 'occurred_at',
  type: 'timestamp',
  description: 'When the event happened (UTC), from the ISO-8601 time with an offset that the event carried; between 1970 and 2100.',
};

const channelColumn: ColumnDoc = {
  name: 'channel',
  type: 'string',
  description: 'The channel, as the producer named it (a number is kept as its text).',
  nullWhen: 'the event gave no channel',
};

const extrasColumn: ColumnDoc = {
  name: 'extras',
  type: 'string',
  description: 'Every field of the event outside the contract (coupon, shipping address, ...), as a JSON object with sorted keys, nested at most 32 levels.',
  nullWhen: 'the event had no fields beyond the contract',
};

/** What every raw table of events says about deliveries, rejections and compaction. */
const rawDefinitionTail =
  'Records that break the contract are not here but in rejected_events, so received = accepted + rejected for every batch. ' +
  'Compaction merges the small files of a partition and keeps every row.';

const rawDefinition = (stagingTable: string) =>
  'Every stored delivery is a row. Within one ingest batch an exact repeat of an earlier record is stored once, and a record that reuses ' +
  'an event_id with other content is refused (see rejected_events). Repeats from different batches are all stored here; ' +
  `${stagingTable} keeps the first delivery received of each event_id (ordered by received_at, ingest_id, record_number), whatever its date.\n\n` +
  rawDefinitionTail;

export const sourceTables: readonly TableDoc[] = [
  {
    name: 'orders',
    layer: 'source',
    summary: 'Order events as ingested: every stored delivery, duplicates included, partitioned by dt, the UTC date it was received.',
    grain: null,
    rowMeaning: 'a stored delivery of an order event',
    definition: rawDefinition('stg_order_events'),
    columns: [
      eventIdColumn,
      { name: 'order_id', type: 'string', description: 'The order the event is about; its placed, cancelled and refunded events share it.' },
      { name: 'customer_id', type: 'string', description: 'The customer, as given in the event.' },
      occurredAtColumn,
      {
        name: 'status',
        type: 'string',
        description: 'What happened to the order: placed, cancelled or refunded; placed when the event gave no status.',
        tests: [oneOf('placed', 'cancelled', 'refunded')],
      },
      { name: 'total', type: 'double', unit: 'original currency', description: "The order's total as the event gave it, at most 10^12.", tests: [atLeast(0)] },
      {
        name: 'currency',
        type: 'string',
        description:
          'The ISO 4217 code of total, refunded_amount and the line prices (three capital letters, like USD). The tables convert them to the reporting currency.',
      },
      {
        name: 'refunded_amount',
        type: 'double',
        unit: 'original currency',
        description: 'The amount refunded, as the event states it, at most 10^12. The tables read it on refunded events only.',
        nullWhen: 'the event gave no amount: on a refunded event that means the whole order was refunded',
        tests: [atLeast(0)],
      },
      channelColumn,
      {
        name: 'items',
        type: 'string',
        description:
          "The order's lines as the JSON array the event gave, each checked at ingest: sku, quantity (an integer >= 1) and unit_price required; " +
          'category, name, discount_amount (whole line) optional; extra fields kept. Read by order_lines.',
        nullWhen: 'the event gave no items, or was stored before items were part of the contract (then any items are in extras)',
      },
      {
        name: 'referred_by',
        type: 'string',
        description:
          "The customer_id of the customer who referred this one, as the event gave it (never the order's own customer). It may name a customer the lake has never seen.",
        nullWhen: 'the event named no referrer',
      },
      extrasColumn,
      ...deliveryColumns,
    ],
  },
  {
    name: 'surveys',
    layer: 'source',
    summary: 'Survey (NPS) answers as ingested: every stored delivery, duplicates included, partitioned by dt, the UTC date it was received.',
    grain: null,
    rowMeaning: 'a stored delivery of a survey answer',
    definition: rawDefinition('stg_survey_responses'),
    columns: [
      eventIdColumn,
      { name: 'customer_id', type: 'string', description: 'The customer who answered, as given in the event.' },
      occurredAtColumn,
      {
        name: 'score',
        type: 'int',
        unit: 'score',
        description: 'The answer to the NPS question, how likely the customer is to recommend: an integer from 0 to 10.',
        tests: [between(0, 10)],
      },
      {
        name: 'survey_id',
        type: 'string',
        description: 'The survey answered, as the producer named it (a number is kept as its text).',
        nullWhen: 'the event gave no survey_id',
      },
      {
        name: 'comment',
        type: 'string',
        description: "The customer's free text, as sent (it may hold control characters).",
        nullWhen: 'the event gave no comment',
      },
      channelColumn,
      extrasColumn,
      ...deliveryColumns,
    ],
  },
  {
    name: 'spend',
    layer: 'source',
    summary: 'Marketing spend as ingested (pipeline ingest spend, landing/spend/): every stored delivery, partitioned by dt, the UTC date it was received.',
    grain: null,
    rowMeaning: 'a stored delivery of a spend event',
    definition:
      'What a channel (and campaign) cost on spend_date, in currency. Spend events with different event_ids for the same day, channel and ' +
      'campaign add up (several invoices); a later delivery of the same event_id loses to the first received. An event with `replaces` ' +
      'restates the event it names (stg_spend says how that counts). ' +
      rawDefinitionTail,
    columns: [
      eventIdColumn,
      { name: 'occurred_at', type: 'timestamp', description: 'Midnight UTC of spend_date.' },
      { name: 'spend_date', type: 'date', description: 'The day the spend is for (a calendar date, YYYY-MM-DD in the event).' },
      { name: 'channel', type: 'string', description: 'The acquisition channel the money was spent on, named as the orders name it (web, app, ...).' },
      { name: 'campaign', type: 'string', description: 'The campaign within the channel, as the producer named it.', nullWhen: 'the event named no campaign' },
      { name: 'amount', type: 'double', unit: 'original currency', description: 'What was spent, at most 10^12.', tests: [atLeast(0)] },
      { name: 'currency', type: 'string', description: 'The ISO 4217 code of amount.' },
      { name: 'replaces', type: 'string', description: 'The event_id of the spend event this one restates.', nullWhen: 'the event restates nothing' },
      extrasColumn,
      ...deliveryColumns,
    ],
  },
  {
    name: 'fx_rates',
    layer: 'source',
    summary:
      'Exchange rates as ingested (pipeline ingest fx-rates, landing/fx-rates/): every stored delivery, partitioned by dt, the UTC date it was received.',
    grain: null,
    rowMeaning: 'a stored delivery of an exchange rate',
    definition:
      'On rate_date, one unit of currency is worth rate units of the reporting currency (config reportingCurrency). A rate has no event id: ' +
      'its currency and date are its identity (event_id is "<currency>/<date>"). Within one file the same rate twice is stored once and two ' +
      'different rates for the same currency and day are refused; across files every delivery is stored and the **last one received** ' +
      'counts (stg_fx_rates), so a later file corrects a rate. Read only when reportingCurrency is set.',
    columns: [
      { name: 'event_id', type: 'string', description: 'The rate\'s identity, "<currency>/<rate_date>" (USD/2024-03-31).' },
      { name: 'occurred_at', type: 'timestamp', description: 'Midnight UTC of rate_date.' },
      { name: 'rate_date', type: 'date', description: 'The day the rate holds for (a calendar date, YYYY-MM-DD in the input).' },
      { name: 'currency', type: 'string', description: 'The ISO 4217 code of the currency the rate converts from.' },
      {
        name: 'rate',
        type: 'double',
        description: 'Units of the reporting currency one unit of currency is worth on rate_date; positive, at most 10^9.',
        tests: [{ kind: 'range', min: 0, max: 1e9 }],
      },
      { ...extrasColumn, description: 'Every field of the record outside the contract (source, ...), as a JSON object with sorted keys.' },
      ...deliveryColumns,
    ],
  },
  {
    name: 'rejected_events',
    layer: 'source',
    summary: 'Every refused record, verbatim, with the reason it was refused; partitioned by event type and by dt, the UTC date it was received.',
    grain: null,
    rowMeaning: 'a refused record',
    definition:
      'A record is refused when it cannot be parsed, breaks the event contract (a reason per field, joined by "; "), is over 1 MiB, ' +
      'nests extra fields more than 32 levels deep, reuses an event_id of an earlier record of its batch with other content, ' +
      'or is a queue message without a known event_type. ' +
      'A truncated gzip file keeps what could be read and adds one row for the unreadable tail. ' +
      'An event of an erased customer is refused as customer_id: erased on DATE, without its payload (docs/erasure.md).\n\n' +
      "Find a batch's refusals with `where ingest_id = '...'`, and a record in its file with source and line_number. " +
      'Refused records never reach the raw tables or any metric.',
    columns: [
      {
        name: 'event_type',
        type: 'string',
        description:
          'The event type the record was ingested as: the landing folder or the command-line argument for a file, the event_type attribute ' +
          'for a queue message; unknown when a message had no such attribute or an unknown one.',
        tests: [oneOf(...EVENT_TYPES, 'unknown')],
      },
      {
        name: 'reason',
        type: 'string',
        description: 'Why the record was refused, naming the field and the value received, e.g. total: must be >= 0 (got -3).',
      },
      {
        name: 'payload',
        type: 'string',
        description:
          'The record as received, verbatim (a JSON line or array element, a CSV record, a message body). Of a record over 1 MiB, its first 64 KiB ' +
          '(the reason gives its size and SHA-256); empty for the unreadable tail of a truncated gzip file.',
        nullWhen: 'the record names an erased customer (docs/erasure.md): it is kept without its text',
      },
      { name: 'received_at', type: 'timestamp', description: 'When the batch holding the record was received (UTC), as in the raw tables.' },
      { name: 'ingest_id', type: 'string', description: 'The ingest batch that refused the record, as in the raw tables.' },
      {
        name: 'source',
        type: 'string',
        description: "Where the record came from: the file's name (command line), the object's key under landing/ (S3), or message:<SQS message id> (queue).",
      },
      {
        name: 'record_number',
        type: 'bigint',
        description:
          'The 1-based position of the record in its file (the CSV header and blank lines not counted), or of the message in its batch; ' +
          'for an unreadable gzip tail, one after the last record read.',
        tests: [atLeast(1)],
      },
      {
        name: 'line_number',
        type: 'bigint',
        description:
          'The 1-based line of its file on which the record starts, or the position of the message in its batch; ' +
          'for an unreadable gzip tail, one after the line of the last record read.',
        tests: [atLeast(1)],
      },
      {
        name: 'dt',
        type: 'date',
        description: "The UTC date of received_at: the partition (rejected/<event_type>/dt=YYYY-MM-DD/); not the event's date, which a record may lack.",
      },
    ],
  },
  {
    name: 'published_messages',
    layer: 'source',
    summary:
      'The log of campaign sends: every customer of each send, messaged or held out as a control (is_holdout). The input of cooldowns and campaign outcomes.',
    grain: null,
    rowMeaning: 'a customer of a campaign send, messaged or held out',
    definition:
      '`pipeline publish` logs each chunk of messages as soon as the sink has taken it, and the customers held out before any message is sent; a publish ' +
      'that stopped part-way resumes from this log, and a second publish of a date sends nothing. Held-out customers count for cooldowns and ' +
      'the one-campaign-a-day rule as if they had been messaged, so the two groups stay comparable.\n\n' +
      'Lines logged before holdouts existed have no is_holdout: those customers were all messaged.',
    columns: [
      {
        name: 'message_id',
        type: 'string',
        description: 'The message id, a UUID v5 of (campaign, customer_id, as_of): a retry or a re-run of the date repeats it. Consumers dedupe on it.',
      },
      { name: 'campaign', type: 'string', description: 'The campaign chosen for the customer, as in campaign_audience (e.g. win_back).' },
      { name: 'customer_id', type: 'string', description: 'The customer, as given in the events.' },
      {
        name: 'as_of',
        type: 'date',
        description: 'The run date whose campaign_audience chose the customer: the partition (published/campaigns/as_of=YYYY-MM-DD/).',
      },
      {
        name: 'priority',
        type: 'int',
        description: "The campaign's priority when it was sent: a customer keeps only the highest-priority campaign of a date.",
        tests: [atLeast(1)],
      },
      {
        name: 'sink',
        type: 'string',
        description: 'Where the messages of the publish went: outbox (JSON Lines under outbox/) or sqs; for a held-out customer, where they would have gone.',
      },
      {
        name: 'published_at',
        type: 'timestamp',
        description: "When the message's chunk was delivered and logged (UTC); for a held-out customer, when they were logged.",
      },
      {
        name: 'is_holdout',
        type: 'boolean',
        description: 'True: held out as a control, logged and sent nothing. False: messaged.',
        nullWhen: 'the line was logged before holdouts existed; the customer was messaged (read null as false)',
      },
    ],
  },
];
