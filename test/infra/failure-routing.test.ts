import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { NO_BUNDLING } from './no-bundling.ts';
import { buildApp } from '../../infra/app.ts';

/**
 * A failed, cancelled (the workgroup's bytes-scanned cutoff) or timed-out step must end the run
 * before anything is promoted or published, name the date it failed on, and give the run lease
 * back. Asserted on the synthesized state machine as a graph: where each state's success and
 * failure edges lead, the loop over the dates included.
 */
interface State {
  Type: string;
  Error?: string;
  ErrorPath?: string;
  CausePath?: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: { Next: string }[];
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number }[];
  ItemsPath?: string;
  MaxConcurrency?: number;
  ItemSelector?: Record<string, string>;
  ItemProcessor?: { StartAt: string; States: Record<string, State> };
}
let top: Record<string, State>;
/** Every state, those of the loop over dates included (state names are unique in the machine). */
let states: Record<string, State>;
let startAt: string;
let loop: State;

beforeAll(() => {
  const { stack } = buildApp(
    new App({ context: { scheduleTime: '04:30', scheduleTimezone: 'Europe/Berlin', bytesScannedCutoffPerQuery: '53687091200', ...NO_BUNDLING } }),
  );
  const machine = Object.values(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'))[0]!;
  const definition = machine.Properties.DefinitionString as string | { 'Fn::Join': [string, unknown[]] };
  // Tokens (ARNs, the partition) sit inside JSON strings: any placeholder keeps the JSON valid.
  const text = typeof definition === 'string' ? definition : definition['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  ({ States: top, StartAt: startAt } = JSON.parse(text) as { States: Record<string, State>; StartAt: string });
  loop = Object.values(top).find((state) => state.Type === 'Map')!;
  states = { ...top, ...loop.ItemProcessor!.States };
}, 180_000);

const PUBLISHING = ['Promote run', 'Publish campaigns'];
const RELEASES = ['Release lease', 'Release lease after failure'];
const isAthena = (state: State) => state.Resource?.includes('athena:startQueryExecution.sync') ?? false;
/** What a Lambda task passes to its function (the whole Parameters when only the response payload is kept). */
const payloadOf = (state: State) => (state.Parameters?.['Payload'] ?? state.Parameters) as Record<string, unknown>;
const loopName = () => Object.keys(top).find((name) => top[name] === loop)!;

/** The states reachable from `name` by any edge: success, choice or failure; a loop's states lead on to the loop's next. */
function reachable(name: string, seen = new Set<string>(), avoiding: ReadonlySet<string> = new Set()): Set<string> {
  if (seen.has(name) || avoiding.has(name)) return seen;
  seen.add(name);
  const state = states[name]!;
  const inLoop = name in loop.ItemProcessor!.States;
  const edges = [state.Next, state.Default, ...(state.Choices ?? []).map((choice) => choice.Next), ...(state.Catch ?? []).map((handler) => handler.Next)];
  if (state.Type === 'Map') edges.push(state.ItemProcessor!.StartAt);
  // A loop iteration that ends (its last state, or a Fail) goes on to the loop's own success or catch.
  if (inLoop && (state.End || state.Type === 'Fail')) edges.push(loop.Next, ...(loop.Catch ?? []).map((handler) => handler.Next));
  for (const next of edges) if (next) reachable(next, seen, avoiding);
  return seen;
}

/** The success path through one date: Next and, at the publish choice, the branch that publishes. */
function datePath(): string[] {
  const path: string[] = [];
  for (let name: string | undefined = loop.ItemProcessor!.StartAt; name; ) {
    path.push(name);
    const state: State = states[name]!;
    name = state.Type === 'Choice' ? state.Choices![0]!.Next : state.Next;
  }
  return path;
}

describe('job graph failure routing', () => {
  it('catches every error of every task: in the loop the date fails, naming itself; outside it the lease is given back first', () => {
    const tasks = Object.entries(states).filter(([, state]) => state.Type === 'Task');
    expect(tasks.filter(([, state]) => isAthena(state)).length).toBeGreaterThan(10);
    for (const [name, state] of tasks) {
      const catchAll = state.Catch?.find((handler) => handler.ErrorEquals.includes('States.ALL'));
      expect(catchAll, name).toBeDefined();
      const next = states[catchAll!.Next]!;
      if (name in loop.ItemProcessor!.States)
        expect(next, name).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: "States.Format('as_of {}: {}', $.as_of, $.error.Cause)" });
      else if (name === startAt) expect(next.Type, name).toBe('Fail');
      else if (RELEASES.includes(name)) expect(catchAll!.Next, name).toBe('RunFailed');
      else expect(catchAll!.Next, name).toBe('Release lease after failure');
    }
    // The loop's failure (a date's) gives the lease back, then fails with the date's error and cause.
    expect(loop.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Release lease after failure' })]);
    expect(states['RunFailed']).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
  });

  it('never reaches promotion or publishing from a failure', () => {
    for (const [name, state] of Object.entries(states)) {
      for (const handler of state.Catch ?? []) {
        if (state.Type === 'Map') continue;
        const after = reachable(handler.Next);
        for (const target of PUBLISHING) expect(after.has(target), `${name} -> ${handler.Next}`).toBe(false);
      }
    }
  });

  it('takes the run lease first, compacts under it, gives it back on every way out, and waits while another run holds it', () => {
    expect(startAt).toBe('Take run lease');
    expect(payloadOf(states[startAt]!)).toMatchObject({ action: 'acquire', 'input.$': '$', 'execution.$': '$$.Execution.Id' });
    expect(states[startAt]!.Next).toBe('Compact raw files');
    expect(states['Compact raw files']!.Next).toBe(loopName());
    expect(states[startAt]!.Retry).toContainEqual(
      expect.objectContaining({ ErrorEquals: ['RunLockBusyError'], IntervalSeconds: 60, BackoffRate: 1, MaxAttempts: 360 }),
    );
    // Once the lease is taken, no way leads to an end of the execution without passing a release.
    const withoutReleases = reachable('Compact raw files', new Set(), new Set(RELEASES));
    const ends = [...withoutReleases].filter((name) => name in top && ['Succeed', 'Fail'].includes(top[name]!.Type));
    expect(ends).toEqual([]);
    expect([...reachable('Compact raw files')].filter((name) => name in top && ['Succeed', 'Fail'].includes(top[name]!.Type)).sort()).toEqual([
      'Done',
      'RunFailed',
    ]);
    for (const release of RELEASES) expect(payloadOf(states[release]!)).toMatchObject({ action: 'release', 'execution.$': '$$.Execution.Id' });
    // Compaction and promotion confirm the execution still holds the generation it took before they change what others read (a redrive starts past the first state).
    expect(payloadOf(states['Compact raw files']!)).toMatchObject({ 'execution.$': '$$.Execution.Id', 'lease_generation.$': '$.run.lease_generation' });
    expect(payloadOf(states['Promote run']!)).toMatchObject({ 'execution.$': '$$.Execution.Id', 'lease_generation.$': '$.lease_generation' });
  });

  it('runs the dates of the input one at a time, in order, each as its own run', () => {
    expect(loop).toMatchObject({ ItemsPath: '$.run.dates', MaxConcurrency: 1 });
    expect(loop.ItemSelector).toEqual({
      'as_of.$': '$$.Map.Item.Value',
      'execution.$': '$$.Execution.Name',
      'publish.$': '$.run.publish',
      'lease_generation.$': '$.run.lease_generation',
    });
    expect(payloadOf(states['Plan run']!)).toMatchObject({ 'as_of.$': '$.as_of', 'execution.$': '$.execution' });
    // Each date leaves only its date behind, so sixty dates' results stay far below the 256 KiB state limit.
    const last = datePath().at(-1)!;
    expect(states[last]).toMatchObject({ Type: 'Pass', Parameters: { 'as_of.$': '$.as_of' }, End: true });
  });

  it('promotes and publishes only after every Athena step succeeded, and publishes only when asked', () => {
    const path = datePath();
    const lastAthena = Math.max(...path.flatMap((name, index) => (isAthena(states[name]!) ? [index] : [])));
    expect(
      Object.keys(states)
        .filter((name) => isAthena(states[name]!))
        .every((name) => path.includes(name)),
    ).toBe(true);
    expect(path.indexOf('Promote run')).toBeGreaterThan(lastAthena);
    expect(path.indexOf('Publish campaigns')).toBeGreaterThan(path.indexOf('Promote run'));
    const choice = states[path[path.indexOf('Promote run') + 1]!]!;
    expect(choice).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.publish', BooleanEquals: true, Next: 'Publish campaigns' }],
      Default: 'Write report',
    });
    expect(states['Publish campaigns']!.Retry).toContainEqual(expect.objectContaining({ ErrorEquals: ['LeaseBusyError'] }));
  });

  it('tests every table of the run after the last step and before promotion', () => {
    const path = datePath();
    const steps = path.filter((name) => name.startsWith('Step '));
    expect(path.indexOf('Test data')).toBe(path.indexOf(steps.at(-1)!) + 1);
    expect(path.indexOf('Promote run')).toBe(path.indexOf('Test data') + 1);
  });

  it('does not re-run an Athena step that failed or was cancelled: only throttled API calls are retried', () => {
    for (const state of Object.values(states).filter(isAthena)) {
      const retried = (state.Retry ?? []).flatMap((rule) => rule.ErrorEquals);
      expect(retried).not.toContain('States.ALL');
      expect(retried).not.toContain('States.TaskFailed');
    }
  });
});
