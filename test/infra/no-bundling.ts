/**
 * CDK context that skips bundling the Lambda code: for tests that read policies or the state
 * machine, which do not depend on the bundles. test/infra/stack.test.ts (and `npm run synth` in
 * CI) still bundle every function for real.
 */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };
