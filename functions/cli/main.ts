import { parseArgs } from 'node:util';
import { isUserError, UsageError } from '../core/errors.ts';
import { compactRawPartitions, describeCompaction } from '../local/compact-lake.ts';
import { analysesCommand } from './commands/analyses.ts';
import { demoCommand } from './commands/demo.ts';
import { forgetCommand } from './commands/forget.ts';
import { ingestCommand, parseEventType } from './commands/ingest.ts';
import { publishCommand } from './commands/publish.ts';
import { queryCommand } from './commands/query.ts';
import { reportCommand } from './commands/report.ts';
import { runCommand } from './commands/run.ts';
import { validateClvCommand } from './commands/validate-clv.ts';
import { RUN_LEASE } from '../core/jobs/run-request.ts';
import { createContext, withLocalLease } from './context.ts';
import { parseDateOption, resolveAsOfDates } from './dates.ts';

export const USAGE = `usage: pipeline <command> [options]

commands:
  demo                               generate sample data, ingest it, run every job, print a summary
  ingest <orders|surveys|spend|fx-rates> FILE...
                                     ingest JSON Lines, CSV or JSON array files (gzip too): events,
                                     marketing spend, or exchange rates to the reportingCurrency
  run [--as-of DATE | --from DATE --to DATE]
                                     compute the tables for a date or a range (default: today)
  publish [--as-of DATE | --from DATE --to DATE]
                                     send the campaign audience to the configured sink (outbox or SQS),
                                     holding out a random share as controls; what was already sent
                                     or held out for a date is never sent again
  query "SQL" [--format table|csv|json]
                                     SQL over the lake: orders, surveys, spend, fx_rates, rejected_events, the tables
                                     and their latest_<table> views
  analyses [NAME] [--format table|csv|json]
                                     list the saved analyses (sql/analyses/), or run one
  compact [orders|surveys|spend|fx-rates]
                                     merge the small raw files of each partition into one
  report [--as-of DATE] [--out FILE]  write the HTML report of a date (default: the latest computed)
  forget [ID...] [--file FILE]        erase customers from the lake (raw events, refused records,
                                     published log, outbox, tables, reports) and refuse their later
                                     events; FILE holds one id per line
  validate-clv --calibration-end DATE --holdout-end DATE [--format table|csv|json]
                                     fit BG/NBD, MBG/NBD and Pareto/NBD up to one date and compare
                                     their predictions with the purchases made up to the other

options:
  --lake DIR          the lake directory (default ./lake, or $PIPELINE_LAKE)
  --config FILE       a JSON config file (default: built-in defaults, or $PIPELINE_CONFIG_FILE)
  --input-format F    ingest: jsonl, csv or json, when the file name does not tell
  -h, --help          this help

exit codes: 0 success, 1 failure, 2 bad usage or bad input
`;

export interface MainIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  interactive: boolean;
}

const defaultIo: MainIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY),
};

/** Runs one command line; returns the exit code. Errors become one line on stderr. */
export async function main(argv: readonly string[], io: MainIo = defaultIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        lake: { type: 'string' },
        config: { type: 'string' },
        'as-of': { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        format: { type: 'string' },
        'input-format': { type: 'string' },
        'calibration-end': { type: 'string' },
        out: { type: 'string' },
        file: { type: 'string' },
        'holdout-end': { type: 'string' },
        customers: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command, ...rest] = positionals;
    if (values.help || command === 'help') {
      io.stdout(USAGE);
      return 0;
    }
    if (command === undefined) {
      // Asked for nothing: the usage is the error message, on stderr.
      io.stderr(USAGE);
      return 2;
    }
    const context = await createContext({ lake: values.lake, config: values.config, ...io });
    switch (command) {
      case 'ingest':
        return await ingestCommand(context, rest, values['input-format']);
      case 'run':
        expectNoPositionals(command, rest);
        return await runCommand(context, resolveAsOfDates(values, context.config.businessTimezone));
      case 'publish':
        expectNoPositionals(command, rest);
        return await publishCommand(context, resolveAsOfDates(values, context.config.businessTimezone));
      case 'query':
        return await queryCommand(context, rest, values.format);
      case 'analyses':
        return await analysesCommand(context, rest, values.format);
      case 'compact': {
        const types = rest.length === 0 ? undefined : [parseEventType(rest[0])];
        if (rest.length > 1) throw new UsageError('compact takes at most one event type');
        for (const result of await withLocalLease(context, RUN_LEASE, () => compactRawPartitions(context.store, types))) io.stdout(describeCompaction(result));
        return 0;
      }
      case 'report':
        expectNoPositionals(command, rest);
        return await reportCommand(context, {
          asOf: values['as-of'] === undefined ? undefined : parseDateOption('as-of', values['as-of']),
          out: values.out,
        });
      case 'forget':
        return await forgetCommand(context, rest, values.file);
      case 'validate-clv':
        expectNoPositionals(command, rest);
        return await validateClvCommand(context, {
          calibrationEnd: values['calibration-end'],
          holdoutEnd: values['holdout-end'],
          format: values.format,
        });
      case 'demo':
        expectNoPositionals(command, rest);
        return await demoCommand(context, { customers: values.customers, seed: values.seed, lakeGiven: values.lake !== undefined });
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}; try pipeline --help`);
    }
  } catch (error) {
    const userError = isUserError(error) || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    io.stderr(`pipeline: ${message}\n`);
    return userError ? 2 : 1;
  }
}

function expectNoPositionals(command: string, rest: readonly string[]): void {
  if (rest.length > 0) throw new UsageError(`${command} takes no arguments, got ${JSON.stringify(rest[0])}`);
}
