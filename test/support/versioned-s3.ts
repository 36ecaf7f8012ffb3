import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { S3Client } from '@aws-sdk/client-s3';

interface Version {
  readonly id: string;
  /** Null for a delete marker. */
  readonly body: Uint8Array | null;
  readonly metadata?: Record<string, string>;
}

/**
 * A versioned S3 bucket in memory behind aws-sdk-client-mock: every put adds a version, a delete
 * without a version id adds a delete marker, a delete with one removes that version. Enough of
 * S3 for the object store (S3ObjectStore) and the version purge.
 */
export class VersionedBucket {
  readonly objects = new Map<string, Version[]>();
  private counter = 0;

  constructor(
    s3: AwsClientStub<S3Client>,
    /** Versions per ListObjectVersions page (S3's default is 1,000). */
    private readonly pageSize = 1000,
  ) {
    s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: Uint8Array | string; IfNoneMatch?: string; Metadata?: Record<string, string> }) => {
      if (input.IfNoneMatch === '*' && this.current(input.Key)) {
        throw Object.assign(new Error('PreconditionFailed'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
      }
      this.add(input.Key, typeof input.Body === 'string' ? new TextEncoder().encode(input.Body) : input.Body, input.Metadata);
      return {};
    });
    s3.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
      const version = this.objects.get(input.Key)?.at(-1);
      if (!version?.body) throw Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
      return { Metadata: version.metadata ?? {} };
    });
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const body = this.current(input.Key);
      if (!body) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      return { Body: { transformToByteArray: async () => body } };
    });
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix?: string }) => ({
      Contents: this.keys()
        .filter((key) => key.startsWith(input.Prefix ?? ''))
        .map((Key) => ({ Key })),
      IsTruncated: false,
    }));
    // As S3 lists them: by key, each key's versions newest first, pageSize at a time, resuming
    // after the markers (whether or not that version still exists).
    s3.on(ListObjectVersionsCommand).callsFake((input: { Prefix?: string; KeyMarker?: string; VersionIdMarker?: string }) => {
      const number = (id: string) => Number(id.slice(1));
      const all = [...this.objects]
        .filter(([key]) => key.startsWith(input.Prefix ?? ''))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .flatMap(([key, versions]) =>
          versions
            .flatMap((version, index) => (version.body === null ? [] : [{ Key: key, VersionId: version.id, IsLatest: index === versions.length - 1 }]))
            .reverse(),
        );
      const after = (entry: { Key: string; VersionId: string }) =>
        input.KeyMarker === undefined ||
        entry.Key > input.KeyMarker ||
        (entry.Key === input.KeyMarker && input.VersionIdMarker !== undefined && number(entry.VersionId) < number(input.VersionIdMarker));
      const rest = all.filter(after);
      const page = rest.slice(0, this.pageSize);
      const last = page.at(-1);
      return rest.length > page.length
        ? { Versions: page, IsTruncated: true, NextKeyMarker: last!.Key, NextVersionIdMarker: last!.VersionId }
        : { Versions: page, IsTruncated: false };
    });
    s3.on(DeleteObjectsCommand).callsFake((input: { Delete: { Objects: { Key: string; VersionId?: string }[] } }) => {
      for (const { Key, VersionId } of input.Delete.Objects) {
        if (VersionId === undefined) this.objects.get(Key)?.push({ id: `v${++this.counter}`, body: null });
        else
          this.objects.set(
            Key,
            (this.objects.get(Key) ?? []).filter((version) => version.id !== VersionId),
          );
      }
      return {};
    });
  }

  add(key: string, body: Uint8Array, metadata?: Record<string, string>): void {
    this.objects.set(key, [...(this.objects.get(key) ?? []), { id: `v${++this.counter}`, body, ...(metadata && { metadata }) }]);
  }

  /** The current body of a key, undefined when it has none (never written, or deleted). */
  current(key: string): Uint8Array | undefined {
    return this.objects.get(key)?.at(-1)?.body ?? undefined;
  }

  /** Keys with a current version, sorted. */
  keys(): string[] {
    return [...this.objects.keys()].filter((key) => this.current(key) !== undefined).sort();
  }

  /** Every body the bucket still keeps, older versions included. */
  allBodies(): { key: string; body: Uint8Array }[] {
    return [...this.objects].flatMap(([key, versions]) => versions.flatMap((version) => (version.body === null ? [] : [{ key, body: version.body }])));
  }
}
