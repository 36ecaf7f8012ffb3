import { basename } from 'node:path';
import { UsageError } from '../../core/errors.ts';
import { EVENT_TYPES, eventTypeNamed, INPUT_NAMES } from '../../core/events/schemas.ts';
import type { EventType } from '../../core/events/schemas.ts';
import { ingestLocalFile } from '../../local/parallel-ingest.ts';
import type { IngestCounts, IngestResult } from '../../core/ingest/ingest-types.ts';
import { assertReadableFile } from '../../core/ingest/open-input.ts';
import { INPUT_FORMATS } from '../../core/ingest/records.ts';
import type { InputFormat } from '../../core/ingest/records.ts';
import { progressLine } from '../context.ts';
import type { CommandContext } from '../context.ts';

export function parseEventType(value: string | undefined): EventType {
  const type = value === undefined ? undefined : eventTypeNamed(value);
  if (type === undefined) {
    const names = EVENT_TYPES.map((each) => INPUT_NAMES[each]);
    throw new UsageError(
      `the input must be ${names.slice(0, -1).join(', ')} or ${names.at(-1)}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`,
    );
  }
  return type;
}

export function parseInputFormat(value: string | undefined): InputFormat | undefined {
  if (value === undefined) return undefined;
  if (!(INPUT_FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(`--input-format must be one of ${INPUT_FORMATS.join(', ')}`);
  }
  return value as InputFormat;
}

const number = (value: number) => value.toLocaleString('en-US');

/** One line per file, then the first rejections with their line and reason. */
export function describeIngest(path: string, type: EventType, result: IngestResult): string {
  const lines = [
    `${type} ${path}: received ${number(result.received)}, accepted ${number(result.accepted)} ` +
      `(${number(result.duplicates)} duplicate${result.duplicates === 1 ? '' : 's'}), rejected ${number(result.rejected)}`,
  ];
  for (const rejected of result.sampleRejections) lines.push(`  rejected line ${rejected.line_number}: ${rejected.reason}`);
  if (result.rejected > result.sampleRejections.length) {
    lines.push(`  ... all ${number(result.rejected)} rejections: pipeline query "select * from rejected_events where ingest_id = '${result.ingestId}'"`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Ingests files of one event type; returns the per-file results. Every path is checked first,
 * so that a typo in the last name does not stop the command after earlier files were stored.
 */
export async function ingestFiles(
  context: CommandContext,
  type: EventType,
  paths: readonly string[],
  format?: InputFormat,
  onFile?: (path: string, result: IngestResult) => void,
): Promise<IngestResult[]> {
  for (const path of paths) await assertReadableFile(path);
  const results: IngestResult[] = [];
  for (const path of paths) {
    const progress = progressLine(context);
    const options = {
      eventType: type,
      source: basename(path),
      store: context.store,
      earliestEventDate: context.config.earliestEventDate,
      onProgress: (counts: IngestCounts) => progress.update(`ingesting ${basename(path)}: ${number(counts.received)} records`),
    };
    const { threads: _threads, ...result } = await ingestLocalFile(path, options, format);
    progress.done();
    results.push(result);
    onFile?.(path, result);
  }
  return results;
}

export async function ingestCommand(context: CommandContext, positionals: string[], format?: string): Promise<number> {
  const [typeName, ...paths] = positionals;
  const type = parseEventType(typeName);
  if (paths.length === 0) throw new UsageError(`ingest ${type} needs at least one FILE`);
  const inputFormat = parseInputFormat(format);
  // Each file's counts are printed as soon as it is done, so they are known even if a later file fails.
  await ingestFiles(context, type, paths, inputFormat, (path, result) => context.stdout(describeIngest(path, type, result)));
  return 0;
}
