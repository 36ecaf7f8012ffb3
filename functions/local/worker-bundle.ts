import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';

/*
 * A worker thread's TypeScript sources as one JavaScript module. A thread starts without the
 * loaders of the process that made it; registering tsx in each worker sent every one of its
 * imports, the libraries' hundreds of modules included, through tsx's loader thread: about a
 * second of CPU per worker before it parsed a line (measured on `pipeline ingest`). Bundled,
 * the project's own modules are one file and the libraries load natively.
 */

/** Libraries stay imports, by the absolute URL Node resolves from here, so the bundle runs from any folder. */
const librariesByUrl: Plugin = {
  name: 'libraries-by-url',
  setup(bundler) {
    bundler.onResolve({ filter: /^[^./]/ }, ({ path }) => ({
      path: path.startsWith('node:') ? path : import.meta.resolve(path),
      external: true,
    }));
  },
};

/** A bundle of the module at `entry`, in a temporary folder, and how to remove it. */
export async function bundleWorker(entry: URL): Promise<{ url: URL; remove: () => Promise<void> }> {
  const folder = await mkdtemp(join(tmpdir(), 'pipeline-worker-'));
  const remove = () => rm(folder, { recursive: true, force: true });
  try {
    const outfile = join(folder, 'worker.mjs');
    await build({
      entryPoints: [fileURLToPath(entry)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      plugins: [librariesByUrl],
      logLevel: 'silent',
    });
    return { url: pathToFileURL(outfile), remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
