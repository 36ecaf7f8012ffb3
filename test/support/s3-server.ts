import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * s3rver, a local S3-compatible server, in a child process of its own: its ListObjectsV2
 * continuation tokens are DES-encrypted, which OpenSSL 3 (Node 17 and later) only allows with
 * --openssl-legacy-provider, a flag the test process itself should not run with.
 */
export async function startS3Server(directory: string, buckets: readonly string[]): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const entry = createRequire(import.meta.url).resolve('s3rver');
  const script = `
    const S3rver = require(${JSON.stringify(entry)});
    const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: ${JSON.stringify(directory)},
      configureBuckets: ${JSON.stringify(buckets.map((name) => ({ name, configs: [] })))} });
    server.run().then((address) => console.log(JSON.stringify(address)));
    process.on('SIGTERM', () => server.close(() => process.exit(0)));
  `;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before it listened`)));
    child.stdout.once('data', (data: Buffer) => resolve((JSON.parse(data.toString()) as { port: number }).port));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
