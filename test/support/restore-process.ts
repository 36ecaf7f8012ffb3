import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll } from 'vitest';

/**
 * Test files share their worker processes (`isolate: false` in vitest.config.ts), so what one
 * file changes in the process must not reach the next. Run before every test file:
 * - the environment is put back as the file found it;
 * - a file that leaves an AWS client's `send` mocked (aws-sdk-client-mock patches the class,
 *   for every instance in the process) fails, naming the client, until it restores the mock.
 * Modules stay loaded from one file to the next (that is the time saved, in the libraries and
 * in code the JIT has already compiled): handlers, which read the environment when first
 * imported, are loaded through importHandler (test/support/lambda.ts), afresh for each file.
 */
const environment = { ...process.env };
const clients = { AthenaClient, S3Client, SFNClient, SQSClient };

afterAll(() => {
  for (const name of Object.keys(process.env)) if (!(name in environment)) delete process.env[name];
  Object.assign(process.env, environment);
  const mocked = Object.entries(clients).filter(([, client]) => 'restore' in client.prototype.send);
  if (mocked.length > 0) {
    throw new Error(`this file leaves ${mocked.map(([name]) => name).join(', ')} mocked: call restore() on its mockClient in afterAll`);
  }
});
