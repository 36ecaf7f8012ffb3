// The project's TypeScript sources as one JavaScript module, made with esbuild when a command
// starts. Plain JavaScript, because the `pipeline` command loads it before anything can read
// TypeScript.
//
// Why: registering tsx sends every import, the libraries' hundreds of modules included, through
// its loader thread. That cost about 1.5 s before a command did anything, and about a second in
// each ingest worker (a thread starts without the loaders of the process that made it). Bundled,
// the project's own modules are one module (built in about 0.1-0.2 s), and the libraries load
// natively.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Where bundles are kept: the usual cache folder of the project's own node_modules. */
const CACHE = new URL('../../node_modules/.cache/customer-marketing-pipeline/', import.meta.url);

/** Bundles older than this are removed when a new one is written (sources were edited). */
const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * What stays an import, by the absolute URL Node resolves from here, so the bundle needs no
 * folder of its own to resolve from and loads exactly the files the sources would: libraries
 * (under this process's conditions) and the project's own plain JavaScript (this module, whose
 * URL must stay its own).
 * @type {import('esbuild').Plugin}
 */
const importsOutsideTheBundle = {
  name: 'imports-outside-the-bundle',
  setup(bundler) {
    bundler.onResolve({ filter: /^[^./]/ }, ({ path, kind }) => {
      // The entry point comes through here too; on Windows its path starts with a drive letter.
      if (kind === 'entry-point') return undefined;
      return { path: path.startsWith('node:') ? path : import.meta.resolve(path), external: true };
    });
    bundler.onResolve({ filter: /\.m?js$/ }, ({ path, resolveDir, kind }) => {
      if (kind === 'entry-point' || !path.startsWith('.')) return undefined;
      return { path: pathToFileURL(resolve(resolveDir, path)).href, external: true };
    });
  },
};

/**
 * Each source keeps its own import.meta.url, which the sources use to find the SQL, the docs
 * and the worker's entry beside them: inside a bundle it would be the bundle's. Records the
 * text of every source it reads, to know later whether the bundle is still theirs.
 * @param {Map<string, string>} sources
 * @returns {import('esbuild').Plugin}
 */
const ownUrlPerSource = (sources) => ({
  name: 'own-url-per-source',
  setup(bundler) {
    bundler.onLoad({ filter: /./ }, async ({ path }) => {
      const text = await readFile(path, 'utf8');
      sources.set(path, text);
      const loader = path.endsWith('.json') ? 'json' : 'ts';
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(path).href)), loader };
    });
  },
});

/**
 * The TypeScript module at `entry` bundled into one JavaScript module; returns the URL to import
 * it (or start a Worker) from.
 *
 * The bundle is kept in the cache folder with a manifest of the sources it was made from: while
 * their text and package-lock.json (the libraries it imports by path) are unchanged, the next
 * command imports it without running esbuild. Files are named by their content and written
 * under a temporary name then renamed, so commands starting at once share them and none reads
 * half of one. A source map sits beside the bundle, for `--enable-source-maps`. Where the cache
 * folder cannot be written, the bundle is passed as a data: URL instead.
 * @param {URL} entry
 * @returns {Promise<URL>}
 */
export async function bundledModuleUrl(entry) {
  const name = basename(fileURLToPath(entry)).replace(/\.ts$/, '');
  const manifestFile = new URL(`${name}.json`, CACHE);
  const cached = await stillCurrent(manifestFile);
  if (cached) return cached;

  // Loaded on use: a command whose bundle is current never loads esbuild.
  const { build } = await import('esbuild');
  const sources = new Map();
  const result = await build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    outfile: fileURLToPath(new URL(`${name}.mjs`, CACHE)),
    sourcemap: 'external',
    plugins: [importsOutsideTheBundle, ownUrlPerSource(sources)],
    logLevel: 'silent',
  });
  const code = result.outputFiles.find((file) => file.path.endsWith('.mjs'))?.text ?? '';
  const map = result.outputFiles.find((file) => file.path.endsWith('.map'))?.text ?? '';
  const file = new URL(`${name}-${digest([code])}.mjs`, CACHE);
  try {
    await mkdir(CACHE, { recursive: true });
    await removeStaleBundles();
    if (!(await exists(file))) {
      await writeAtomically(new URL(`${basename(fileURLToPath(file))}.map`, CACHE), map);
      await writeAtomically(file, `${code}//# sourceMappingURL=${basename(fileURLToPath(file))}.map\n`);
    }
    const inputs = [...sources.keys()].sort();
    const manifest = { key: digest([await lockfile(), ...inputs.flatMap((path) => [path, sources.get(path)])]), inputs, bundle: basename(fileURLToPath(file)) };
    await writeAtomically(manifestFile, JSON.stringify(manifest));
    return file;
  } catch {
    return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
  }
}

/**
 * The bundle a manifest names, when the sources it lists still read as they did (any source
 * that now imports a new one has changed too) and the libraries are the same; otherwise none.
 * @param {URL} manifestFile
 * @returns {Promise<URL | undefined>}
 */
async function stillCurrent(manifestFile) {
  try {
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    const texts = await Promise.all(manifest.inputs.map((/** @type {string} */ path) => readFile(path, 'utf8')));
    const key = digest([await lockfile(), ...manifest.inputs.flatMap((/** @type {string} */ path, /** @type {number} */ index) => [path, texts[index]])]);
    const file = new URL(manifest.bundle, CACHE);
    return key === manifest.key && (await exists(file)) ? file : undefined;
  } catch {
    return undefined;
  }
}

/** @returns {Promise<string>} */
async function lockfile() {
  return readFile(new URL('../../package-lock.json', import.meta.url), 'utf8').catch(() => '');
}

/**
 * @param {readonly string[]} parts
 * @returns {string}
 */
function digest(parts) {
  const hash = createHash('sha256');
  // Lengths first, so that no two lists of parts hash as the same text.
  for (const part of parts) hash.update(`${part.length}:`).update(part);
  return hash.digest('hex').slice(0, 16);
}

/** @param {URL} file */
async function exists(file) {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * @param {URL} file
 * @param {string} text
 */
async function writeAtomically(file, text) {
  const path = fileURLToPath(file);
  const partial = resolve(dirname(path), `.${process.pid}-${basename(path)}`);
  await writeFile(partial, text);
  await rename(partial, path);
}

/**
 * A day after a bundle was written, nothing still starting from it (a command reads its bundle
 * when it starts, an ingest's workers when the ingest starts) needs it.
 */
async function removeStaleBundles() {
  const folder = fileURLToPath(CACHE);
  const entries = await readdir(folder);
  // A bundle a manifest names may be about to be imported, however old it is.
  const named = await Promise.all(
    entries
      .filter((entry) => entry.endsWith('.json'))
      .map((entry) =>
        readFile(resolve(folder, entry), 'utf8').then(
          (text) => JSON.parse(text).bundle,
          () => undefined,
        ),
      ),
  );
  const now = Date.now();
  for (const entry of entries) {
    if (entry.endsWith('.json') || named.some((bundle) => bundle && entry.startsWith(bundle))) continue;
    const path = resolve(folder, entry);
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: now }));
    if (now - mtimeMs > STALE_AFTER_MS) await rm(path, { force: true });
  }
}
