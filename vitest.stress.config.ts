import { defineConfig } from 'vitest/config';

/** `npm run test:stress`: the same properties with many more cases, and inputs too big for `npm test`. */
export default defineConfig({
  test: {
    include: ['test/stress/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
