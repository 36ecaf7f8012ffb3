import { DeleteObjectsCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import type { ObjectIdentifier, S3Client } from '@aws-sdk/client-s3';
import { withRetries } from './retry.ts';
import type { RetryOptions } from './retry.ts';

/**
 * Deletes every noncurrent version of the objects under the prefixes of a versioned bucket: the
 * older versions of objects replaced or deleted (an erasure's, or a compaction's), which still
 * hold what the current objects no longer do. The current versions, and delete markers, stay
 * (removing a delete marker would bring the version under it back). Returns how many versions
 * were deleted.
 */
export async function deleteNoncurrentVersions(client: S3Client, bucket: string, prefixes: readonly string[], retry: RetryOptions = {}): Promise<number> {
  let deleted = 0;
  for (const prefix of prefixes) {
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const page = await withRetries(
        () => client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionMarker })),
        retry,
        `S3 ListObjectVersions s3://${bucket}/${prefix}`,
      );
      const noncurrent: ObjectIdentifier[] = (page.Versions ?? [])
        .filter((version) => version.IsLatest === false && version.Key !== undefined && version.VersionId !== undefined)
        .map((version) => ({ Key: version.Key!, VersionId: version.VersionId! }));
      for (let start = 0; start < noncurrent.length; start += 1000) {
        const batch = noncurrent.slice(start, start + 1000);
        const response = await withRetries(
          () => client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } })),
          retry,
          `S3 DeleteObjects (versions) in s3://${bucket}`,
        );
        const failed = response.Errors ?? [];
        if (failed.length > 0)
          throw new Error(`could not delete ${failed.length} object versions, first ${failed[0]!.Key} (${failed[0]!.VersionId}): ${failed[0]!.Code}`);
        deleted += batch.length;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
  }
  return deleted;
}
