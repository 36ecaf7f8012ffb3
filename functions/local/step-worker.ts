/**
 * The thread of step-thread.ts: runs each TypeScript step it is sent and sends back its tables.
 * A step that throws ends the thread with the error, which the runner reports for the step.
 */
import { parentPort } from 'node:worker_threads';
import { typeScriptSteps } from '../core/jobs/typescript-steps.ts';
import type { StepRequest, StepResults } from './step-thread.ts';

parentPort!.on('message', (request: StepRequest) => {
  const results: StepResults = typeScriptSteps[request.handler].run(request.input, request.config, request.asOf);
  parentPort!.postMessage(results);
});
