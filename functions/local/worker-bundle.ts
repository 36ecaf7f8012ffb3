import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

/*
 * A worker thread's TypeScript sources as one JavaScript module. A thread starts without the
 * loaders of the process that made it; registering tsx in each worker sent every one of its
 * imports, the libraries' hundreds of modules included, through tsx's loader thread: about a
 * second of CPU per worker before it parsed a line (measured on `pipeline ingest`). Bundled,
 * the project's own modules are one module, and the libraries load natively.
 */

/**
 * Libraries stay imports, by the absolute URL Node resolves from here (this package's own
 * dependencies, under the conditions of this process), so the bundle needs no folder of its
 * own to resolve them from, and the worker loads exactly the files this thread would.
 */
const librariesByUrl: Plugin = {
  name: 'libraries-by-url',
  setup(bundler) {
    bundler.onResolve({ filter: /^[^./]/ }, ({ path, kind }) => {
      // The entry point comes through here too; on Windows its path starts with a drive letter.
      if (kind === 'entry-point') return undefined;
      return { path: path.startsWith('node:') ? path : import.meta.resolve(path), external: true };
    });
  },
};

/**
 * The module at `entry` bundled, as a data: URL to start a Worker with: nothing is written to
 * disk, so nothing is left behind when an ingest is interrupted. Source maps are inline, so
 * a worker's stack traces can be mapped back to the TypeScript.
 */
export async function bundledWorkerUrl(entry: URL): Promise<URL> {
  // Loaded here, not with the command: only a parallel ingest needs esbuild.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    sourcemap: 'inline',
    plugins: [librariesByUrl],
    logLevel: 'silent',
  });
  return new URL(`data:text/javascript,${encodeURIComponent(result.outputFiles[0]!.text)}`);
}
