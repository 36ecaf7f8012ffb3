/**
 * The job graph's TypeScript steps (model fits) on a worker thread of their own, so that the
 * local runner goes on with the SQL steps that do not read their tables while a fit runs: DuckDB
 * works on its own threads, and a fit on the main thread kept those waiting for the next query.
 */
import { Worker } from 'node:worker_threads';
import type { PipelineConfig } from '../core/config.ts';
import type { TypeScriptStep } from '../core/jobs/graph.ts';
import type { InputColumns } from '../core/jobs/typescript-steps.ts';
import { bundledModuleUrl } from './source-bundle.mjs';

/** What the thread is asked to run: one step of one date. */
export interface StepRequest {
  readonly handler: TypeScriptStep['handler'];
  readonly input: InputColumns;
  readonly config: PipelineConfig;
  readonly asOf: string;
}

/** The tables a step computed, by name, as rows. */
export type StepResults = Record<string, readonly object[]>;

/**
 * One worker thread, started on the first request and reused for every later one; each request
 * runs when the previous one is done. close() stops the thread.
 */
export class StepThread {
  private worker: Promise<Worker> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  /** Starts the thread ahead of its first step, so that its start overlaps earlier steps. */
  warm(): void {
    this.started().catch(() => undefined);
  }

  /** Runs a step on the thread; rejects with the step's error, or when the thread stops. */
  run(request: StepRequest): Promise<StepResults> {
    const result = this.queue.then(() => this.send(request));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private started(): Promise<Worker> {
    // Source maps on, as the command turns them on for itself: the thread's stack traces name the TypeScript.
    this.worker ??= bundledModuleUrl(new URL('./step-worker.ts', import.meta.url)).then(
      (url) => new Worker(url, { execArgv: [...process.execArgv, '--enable-source-maps'] }),
    );
    return this.worker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await (await worker?.catch(() => undefined))?.terminate();
  }

  private async send(request: StepRequest): Promise<StepResults> {
    const worker = await this.started();
    return new Promise<StepResults>((resolve, reject) => {
      const settle = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (results: StepResults) => {
        settle();
        resolve(results);
      };
      const onError = (error: Error) => {
        settle();
        this.worker = undefined;
        reject(error);
      };
      const onExit = (code: number) => {
        settle();
        this.worker = undefined;
        reject(new Error(`the ${request.handler} thread stopped with exit code ${code}`));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(request);
    });
  }
}
