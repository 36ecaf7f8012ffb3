/**
 * One received record, before validation: where it came from in the file, its raw text (kept
 * verbatim for the rejected/ area) and either the parsed value or why it could not be parsed.
 */
export interface RawRecord {
  /** 1-based ordinal of the record in its file (CSV header excluded). */
  readonly recordNumber: number;
  /** 1-based line on which the record starts. */
  readonly lineNumber: number;
  /** The record as received. */
  readonly text: string;
  /** Parsed value when parsing succeeded. */
  readonly value?: unknown;
  /** Why the record could not be parsed; set instead of value. */
  readonly parseError?: string;
  /**
   * True when the value came from a typed format (JSON). CSV fields are all text, so numeric
   * fields are converted during validation only for CSV.
   */
  readonly typed: boolean;
}

export type InputFormat = 'jsonl' | 'csv' | 'json';
export const INPUT_FORMATS: readonly InputFormat[] = ['jsonl', 'csv', 'json'];

/**
 * Records in the order received, a batch at a time (one per chunk read): per-record async
 * iteration costs a promise per record per stage, which measured as much as parsing.
 */
export type RecordBatches = AsyncIterable<readonly RawRecord[]>;
