import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { ObjectStore } from '../core/ports.ts';

/** Temporary files start with this prefix and are invisible to list() and to lake globs. */
export const TEMP_PREFIX = '.tmp-';

/**
 * The object store on a local directory laid out like the S3 lake. Writes go to a hidden
 * temporary file in the target directory and are renamed into place, so a reader sees the
 * whole object or nothing.
 */
export class FilesystemObjectStore implements ObjectStore {
  constructor(readonly root: string) {}

  /** Absolute path of a key. */
  pathOf(key: string): string {
    if (key.split('/').some((part) => part === '..')) throw new Error(`invalid key ${key}`);
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    await this.placeWhole(key, body, rename);
  }

  async get(key: string): Promise<Uint8Array> {
    return readFile(this.pathOf(key));
  }

  /**
   * Hard-linked into place: link() fails if the key exists, where rename() would replace it. On
   * a filesystem without hard links, an exclusive create of the key itself: readers could see
   * it part-written, which the small records this is used for (leases) are written too fast for.
   */
  async putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean> {
    const exists = (error: unknown) => (error as NodeJS.ErrnoException).code === 'EEXIST';
    try {
      await this.placeWhole(key, body, link);
      return true;
    } catch (error) {
      if (exists(error)) return false;
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
    try {
      await writeFile(this.pathOf(key), body, { flag: 'wx' });
      return true;
    } catch (error) {
      if (exists(error)) return false;
      throw error;
    }
  }

  /** Writes the body whole to a hidden temporary file beside the key, then moves or links it into place. */
  private async placeWhole(key: string, body: Uint8Array | string, place: (temp: string, path: string) => Promise<void>): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = join(dirname(path), `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
    try {
      await writeFile(temp, body);
      await place(temp, path);
    } finally {
      // Gone after a rename; left after a link or a failure.
      await rm(temp, { force: true });
    }
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.pathOf(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
    const found: string[] = [];
    const walk = async (directory: string): Promise<void> => {
      const entries = await readdir(directory, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
        throw error;
      });
      for (const entry of entries) {
        if (entry.name.startsWith(TEMP_PREFIX)) continue;
        const path = join(directory, entry.name);
        if (entry.isDirectory()) await walk(path);
        else found.push(relative(this.root, path).split(sep).join('/'));
      }
    };
    await walk(base);
    return found.sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => rm(this.pathOf(key), { force: true })));
  }
}
