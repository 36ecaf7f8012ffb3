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
    // vitest runs one file at a time on a 2-core machine by default (cores - 1), yet a file keeps
    // about 1.4 cores busy on average (DuckDB's threads while the test waits on I/O): two at once
    // finish the suite sooner.
    maxWorkers: 2,
  },
});
