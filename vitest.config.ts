import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The heavy cases run under `npm run test:stress` (vitest.stress.config.ts).
    exclude: [...configDefaults.exclude, 'test/stress/**'],
    // DuckDB runs in-process and the integration suites write lakes to disk: give them room.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Files share their two worker processes instead of each starting one and importing every
    // library again (DuckDB, Arrow, the AWS SDK, aws-cdk-lib), and keep what earlier files
    // compiled or cached (the synthesized stack): the suite took 247-273 s isolated and
    // 166-203 s shared here. What a file changes in the process is put back or refused after it
    // (test/support/restore-process.ts); handlers load through importHandler
    // (test/support/lambda.ts). Files pass in any order: `vitest run --sequence.shuffle.files`.
    isolate: false,
    setupFiles: ['test/support/restore-process.ts'],
    // vitest runs one file at a time on a 2-core machine by default (cores - 1), yet a file keeps
    // about 1.4 cores busy on average (DuckDB's threads while the test waits on I/O): two at once
    // finish the suite sooner.
    maxWorkers: 2,
  },
});
