import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { NO_BUNDLING } from './no-bundling.ts';
import { buildApp } from '../../infra/app.ts';

/**
 * A failed, cancelled (the workgroup's bytes-scanned cutoff) or timed-out step must end the run
 * before anything is promoted or published. Asserted on the synthesized state machine as a
 * graph: where each state's success and failure edges lead.
 */
interface State {
  Type: string;
  Error?: string;
  CausePath?: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Retry?: { ErrorEquals: string[] }[];
}
let states: Record<string, State>;
let startAt: string;

beforeAll(() => {
  const { stack } = buildApp(new App({ context: { scheduleTime: '04:30', scheduleTimezone: 'Europe/Berlin', bytesScannedCutoffPerQuery: '53687091200', ...NO_BUNDLING } }));
  const machine = Object.values(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'))[0]!;
  const definition = machine.Properties.DefinitionString as string | { 'Fn::Join': [string, unknown[]] };
  // Tokens (ARNs, the partition) sit inside JSON strings: any placeholder keeps the JSON valid.
  const text = typeof definition === 'string' ? definition : definition['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  ({ States: states, StartAt: startAt } = JSON.parse(text) as { States: Record<string, State>; StartAt: string });
}, 180_000);

const PUBLISHING = ['Promote run', 'Publish campaigns'];
const isAthena = (state: State) => state.Resource?.includes('athena:startQueryExecution.sync') ?? false;

/** Every state reachable from `name` by any edge, success or failure. */
function reachable(name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen;
  seen.add(name);
  const state = states[name]!;
  for (const next of [state.Next, ...(state.Catch ?? []).map((handler) => handler.Next)]) if (next) reachable(next, seen);
  return seen;
}

describe('job graph failure routing', () => {
  it('catches every error of every task and ends the run in a Fail state', () => {
    const tasks = Object.entries(states).filter(([, state]) => state.Type === 'Task');
    expect(tasks.filter(([, state]) => isAthena(state)).length).toBeGreaterThan(10);
    for (const [name, state] of tasks) {
      const catchAll = state.Catch?.find((handler) => handler.ErrorEquals.includes('States.ALL'));
      expect(catchAll, name).toBeDefined();
      expect(states[catchAll!.Next]!.Type, name).toBe('Fail');
    }
  });

  it('never reaches promotion or publishing from a failure', () => {
    for (const [name, state] of Object.entries(states)) {
      for (const handler of state.Catch ?? []) {
        const after = reachable(handler.Next);
        for (const target of PUBLISHING) expect(after.has(target), `${name} -> ${handler.Next}`).toBe(false);
      }
    }
  });

  it('promotes and publishes only after every Athena step succeeded', () => {
    const path: string[] = [];
    for (let name: string | undefined = startAt; name; name = states[name]!.Next) path.push(name);
    const lastAthena = Math.max(...path.flatMap((name, index) => (isAthena(states[name]!) ? [index] : [])));
    expect(Object.keys(states).filter((name) => isAthena(states[name]!)).every((name) => path.includes(name))).toBe(true);
    expect(path.indexOf('Promote run')).toBeGreaterThan(lastAthena);
    expect(path.indexOf('Publish campaigns')).toBeGreaterThan(path.indexOf('Promote run'));
  });

  it("tests every table of the run after the last step and before promotion, and a failed test ends the run in its own state", () => {
    const path: string[] = [];
    for (let name: string | undefined = startAt; name; name = states[name]!.Next) path.push(name);
    const steps = path.filter((name) => name.startsWith('Step '));
    expect(path.indexOf('Test data')).toBe(path.indexOf(steps.at(-1)!) + 1);
    expect(path.indexOf('Promote run')).toBe(path.indexOf('Test data') + 1);
    const handlers = states['Test data']!.Catch!;
    expect(handlers[0]).toMatchObject({ ErrorEquals: ['DataTestFailedError'], Next: 'DataTestsFailed' });
    expect(states['DataTestsFailed']).toMatchObject({ Type: 'Fail', Error: 'DataTestFailed', CausePath: '$.error.Cause' });
  });

  it('does not re-run an Athena step that failed or was cancelled: only throttled API calls are retried', () => {
    for (const state of Object.values(states).filter(isAthena)) {
      const retried = (state.Retry ?? []).flatMap((rule) => rule.ErrorEquals);
      expect(retried).not.toContain('States.ALL');
      expect(retried).not.toContain('States.TaskFailed');
    }
  });
});
