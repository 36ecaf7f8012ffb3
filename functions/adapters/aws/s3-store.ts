import { CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../../core/ports.ts';
import { withRetries } from './retry.ts';
import type { RetryOptions } from './retry.ts';

/**
 * The object store on an S3 bucket, with the same keys as the local lake. A PutObject is
 * atomic: readers see the whole object or none. Encryption is the bucket's default (KMS).
 */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    private readonly retry: RetryOptions = {},
  ) {}

  async put(key: string, body: Uint8Array | string): Promise<void> {
    await withRetries(() => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body })), this.retry);
  }

  async get(key: string): Promise<Uint8Array> {
    return withRetries(async () => {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return response.Body!.transformToByteArray();
    }, this.retry);
  }

  /** The object's bytes as a stream, for inputs of any size. */
  async stream(key: string): Promise<AsyncIterable<Uint8Array>> {
    const response = await withRetries(() => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })), this.retry);
    return response.Body as unknown as AsyncIterable<Uint8Array>;
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await withRetries(
        () => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
        this.retry,
      );
      for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000);
      const response = await withRetries(
        () => this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
        this.retry,
      );
      const failed = response.Errors ?? [];
      if (failed.length > 0) throw new Error(`could not delete ${failed.length} objects, first ${failed[0]!.Key}: ${failed[0]!.Code}`);
    }
  }

  /** Server-side copy within the bucket. */
  async copy(fromKey: string, toKey: string): Promise<void> {
    await withRetries(
      () => this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: toKey, CopySource: `${this.bucket}/${encodeURIComponent(fromKey).replaceAll('%2F', '/')}` })),
      this.retry,
    );
  }
}
