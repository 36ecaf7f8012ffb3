import { CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../../core/ports.ts';
import { describeError, withRetries } from './retry.ts';
import type { RetryOptions } from './retry.ts';

/** A streamed object broke off after part of it had reached the reader: the read must start over. */
export class StreamInterruptedError extends Error {
  override readonly name = 'StreamInterruptedError';
}

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

  async put(key: string, body: Uint8Array | string, metadata?: Readonly<Record<string, string>>): Promise<void> {
    await withRetries(
      () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ...(metadata && { Metadata: { ...metadata } }) })),
      this.retry,
      `S3 PutObject ${this.url(key)}`,
    );
  }

  /**
   * PutObject with If-None-Match: *, S3's conditional write: 412 PreconditionFailed when the
   * key exists. A 409 ConditionalRequestConflict (another conditional write to the key in
   * flight) is tried again, as S3 asks.
   */
  async putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean> {
    try {
      await withRetries(
        () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, IfNoneMatch: '*' })),
        this.retry,
        `S3 PutObject (if absent) ${this.url(key)}`,
        (error) => statusOf(error) === 409,
      );
      return true;
    } catch (error) {
      if (statusOf(error) === 412) return false;
      throw error;
    }
  }

  async get(key: string): Promise<Uint8Array> {
    // The body is read inside the retried call: a connection lost halfway is a fresh GET.
    return withRetries(
      async () => {
        const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        return response.Body!.transformToByteArray();
      },
      this.retry,
      `S3 GetObject ${this.url(key)}`,
    );
  }

  /**
   * The object's bytes as a stream, for inputs of any size. Opening it and reading its first
   * chunk are retried together, since starting over is invisible until a byte has reached the
   * reader; a break after that is a StreamInterruptedError, as the reader has consumed part.
   */
  async stream(key: string): Promise<AsyncIterable<Uint8Array>> {
    const operation = `S3 GetObject ${this.url(key)}`;
    const opened = await withRetries(
      async () => {
        const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        const chunks = (response.Body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
        return { chunks, first: await chunks.next() };
      },
      this.retry,
      operation,
    );
    return continueStream(operation, opened.chunks, opened.first);
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await withRetries(
        () => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
        this.retry,
        `S3 ListObjectsV2 ${this.url(prefix)}`,
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
        `S3 DeleteObjects in s3://${this.bucket}`,
      );
      const failed = response.Errors ?? [];
      if (failed.length > 0) throw new Error(`could not delete ${failed.length} objects, first ${failed[0]!.Key}: ${failed[0]!.Code}`);
    }
  }

  /** Server-side copy within the bucket. */
  async copy(fromKey: string, toKey: string): Promise<void> {
    await withRetries(
      () =>
        this.client.send(
          new CopyObjectCommand({ Bucket: this.bucket, Key: toKey, CopySource: `${this.bucket}/${encodeURIComponent(fromKey).replaceAll('%2F', '/')}` }),
        ),
      this.retry,
      `S3 CopyObject ${this.url(fromKey)} to ${toKey}`,
    );
  }

  private url(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }
}

const statusOf = (error: unknown) => (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;

async function* continueStream(operation: string, chunks: AsyncIterator<Uint8Array>, first: IteratorResult<Uint8Array>): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  let next = first;
  try {
    while (!next.done) {
      bytes += next.value.length;
      yield next.value;
      try {
        next = await chunks.next();
      } catch (error) {
        throw new StreamInterruptedError(`${operation} broke off after ${bytes} bytes: ${describeError(error)}`, { cause: error });
      }
    }
  } finally {
    // A reader that stops early must not leave the connection open; a failed close of a
    // broken stream must not hide why it broke.
    if (!next.done) await chunks.return?.().catch(() => undefined);
  }
}
