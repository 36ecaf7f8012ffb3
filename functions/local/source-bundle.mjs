// The project's TypeScript sources as one JavaScript module, made with esbuild when a command
// starts. Plain JavaScript, because the `pipeline` command loads it before anything can read
// TypeScript.
//
// Why: registering tsx sends every import, the libraries' hundreds of modules included, through
// its loader thread. That cost 1.2-1.4 s before a command did anything, and about a second in
// each ingest worker (a thread starts without the loaders of the process that made it). Bundled,
// the project's own modules are one module (built in 0.2-0.5 s, then kept), with the two plain
// JavaScript libraries every command loads (apache-arrow, zod); the other libraries load natively.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Where bundles are kept: the usual cache folder of the project's own node_modules. */
const CACHE = new URL('../../node_modules/.cache/customer-marketing-pipeline/', import.meta.url);

/** Bundles older than this are removed when a new one is written (sources were edited). */
const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * Libraries of plain JavaScript that go into the bundle, found where Node finds them from here
 * (under this process's conditions). One module loads in a third of the time of a library's
 * hundreds of files: apache-arrow took 134-154 ms to import on its own and 45 ms bundled, in the
 * command and again in each ingest worker (bench/HISTORY.md).
 */
const BUNDLED_LIBRARIES = /^(apache-arrow|zod)(\/|$)/;
/** A module inside a library: its own imports are resolved and bundled as esbuild does, from where it is. */
const insideLibrary = (/** @type {string} */ importer) => /[\\/]node_modules[\\/]/.test(importer);

/**
 * What stays an import, by the absolute URL Node resolves from here, so the bundle needs no
 * folder of its own to resolve from and loads exactly the files the sources would: the other
 * libraries (under this process's conditions) and the project's own plain JavaScript (this
 * module, whose URL must stay its own).
 * @type {import('esbuild').Plugin}
 */
const importsOutsideTheBundle = {
  name: 'imports-outside-the-bundle',
  setup(bundler) {
    bundler.onResolve({ filter: /^[^./]/ }, ({ path, kind, importer }) => {
      // The entry point comes through here too; on Windows its path starts with a drive letter.
      if (kind === 'entry-point' || insideLibrary(importer)) return undefined;
      if (BUNDLED_LIBRARIES.test(path)) return { path: fileURLToPath(import.meta.resolve(path)) };
      return { path: path.startsWith('node:') ? path : import.meta.resolve(path), external: true };
    });
    bundler.onResolve({ filter: /\.m?js$/ }, ({ path, resolveDir, kind, importer }) => {
      if (kind === 'entry-point' || !path.startsWith('.') || insideLibrary(importer)) return undefined;
      return { path: pathToFileURL(resolve(resolveDir, path)).href, external: true };
    });
  },
};

/**
 * Each source keeps its own import.meta (url, dirname and filename), which the sources use to
 * find the SQL, the docs and the worker's entry beside them: inside a bundle it would be the
 * bundle's. It is replaced in the syntax tree (esbuild's define, per file), not in the text, so
 * a string or comment that mentions it is left alone; a property it has not (resolve) is
 * undefined rather than the bundle's. Records the text of every source it reads, to know later
 * whether the bundle is still theirs.
 * @param {typeof import('esbuild').transform} transform
 * @param {string} tsconfigRaw the project's compiler options (transform reads no tsconfig.json)
 * @param {Map<string, string>} sources
 * @returns {import('esbuild').Plugin}
 */
const ownUrlPerSource = (transform, tsconfigRaw, sources) => ({
  name: 'own-url-per-source',
  setup(bundler) {
    bundler.onLoad({ filter: /./ }, async ({ path }) => {
      // A bundled library's files load as they are (neither uses import.meta); package-lock.json
      // stands for their text in the bundle's key.
      if (insideLibrary(path)) return undefined;
      const text = await readFile(path, 'utf8');
      sources.set(path, text);
      const meta = { url: pathToFileURL(path).href, dirname: dirname(path), filename: path };
      const { code } = await transform(text, {
        loader: path.endsWith('.json') ? 'json' : 'ts',
        format: 'esm',
        target: 'node20',
        sourcefile: path,
        sourcemap: 'inline',
        tsconfigRaw,
        define: { 'import.meta': JSON.stringify(meta) },
      });
      return { contents: code, loader: 'js' };
    });
  },
});

/**
 * The TypeScript module at `entry` bundled into one JavaScript module; returns the URL to import
 * it (or start a Worker) from.
 *
 * The bundle is kept in the cache folder with a manifest of what it was made from: while the
 * sources' text, package-lock.json (the libraries it imports by path), tsconfig.json, this
 * module and the Node that runs it are unchanged, the next command imports it without running
 * esbuild. The manifest is named after the entry's path, so checkouts that share a
 * node_modules, or entries of the same name, do not take each other's bundle. The bundle is
 * named by a digest of its text, checked each time it is used (a file cut short by a crash is
 * made again), and written under a temporary name then renamed, so commands starting at once
 * share it and none reads half of one. A source map sits beside it. Where the cache folder
 * cannot be written, the bundle is passed as a data: URL instead.
 * @param {URL} entry
 * @returns {Promise<URL>}
 */
export async function bundledModuleUrl(entry) {
  const entryPath = fileURLToPath(entry);
  // Per entry and runtime, so that a test runner's conditions and a command's each keep theirs.
  const name = `${basename(entryPath).replace(/\.ts$/, '')}-${digest([entryPath, runtime()]).slice(0, 8)}`;
  const manifestFile = new URL(`${name}.json`, CACHE);
  const cached = await stillCurrent(manifestFile, entryPath);
  if (cached) return cached;

  // Loaded on use: a command whose bundle is current never loads esbuild.
  const { build, transform } = await import('esbuild');
  const tsconfig = await readFile(new URL('../../tsconfig.json', import.meta.url), 'utf8').catch(() => '{}');
  const sources = new Map();
  const result = await build({
    entryPoints: [entryPath],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    outfile: fileURLToPath(new URL(`${name}.mjs`, CACHE)),
    sourcemap: 'external',
    plugins: [importsOutsideTheBundle, ownUrlPerSource(transform, tsconfig, sources)],
    logLevel: 'silent',
  });
  const code = result.outputFiles.find((file) => file.path.endsWith('.mjs'))?.text ?? '';
  const map = result.outputFiles.find((file) => file.path.endsWith('.map'))?.text ?? '';
  // Named by a digest of its code (the text before the source map's link).
  const file = new URL(`${name}-${digest([code])}.mjs`, CACHE);
  const text = `${code}//# sourceMappingURL=${basename(fileURLToPath(file))}.map\n`;
  try {
    await mkdir(CACHE, { recursive: true });
    await removeStaleBundles();
    await writeAtomically(mapOf(file), map);
    if (!(await intact(file))) await writeAtomically(file, text);
    const inputs = [...sources.keys()].sort();
    const manifest = { entry: entryPath, key: await keyOf(inputs, (path) => sources.get(path)), inputs, bundle: basename(fileURLToPath(file)) };
    await writeAtomically(manifestFile, JSON.stringify(manifest));
    return file;
  } catch {
    return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
  }
}

/**
 * The bundle a manifest names, when it is for this entry, what it was made from is unchanged
 * (a source that now imports a new one has changed too), the bundle reads as it was written,
 * and its source map is there; otherwise none.
 * @param {URL} manifestFile
 * @param {string} entryPath
 * @returns {Promise<URL | undefined>}
 */
async function stillCurrent(manifestFile, entryPath) {
  try {
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    if (manifest.entry !== entryPath) return undefined;
    const texts = new Map(await Promise.all(manifest.inputs.map(async (/** @type {string} */ path) => [path, await readFile(path, 'utf8')])));
    const file = new URL(manifest.bundle, CACHE);
    // Touched first, as used again: not stale, whatever its age (removeStaleBundles).
    const now = new Date();
    await Promise.all([file, mapOf(file)].map((each) => utimes(each, now, now)));
    if ((await keyOf(manifest.inputs, (path) => texts.get(path))) !== manifest.key || !(await intact(file))) return undefined;
    return file;
  } catch {
    return undefined;
  }
}

/**
 * What a bundle depends on besides its sources: the libraries' versions, the compiler options
 * esbuild reads, how bundles are made (this module), and the Node that runs them.
 * @param {readonly string[]} inputs
 * @param {(path: string) => string | undefined} textOf
 * @returns {Promise<string>}
 */
async function keyOf(inputs, textOf) {
  const [lock, tsconfig, bundler] = await Promise.all(
    ['../../package-lock.json', '../../tsconfig.json', './source-bundle.mjs'].map((path) => readFile(new URL(path, import.meta.url), 'utf8').catch(() => '')),
  );
  return digest([lock, tsconfig, bundler, runtime(), ...inputs.flatMap((path) => [path, textOf(path) ?? ''])]);
}

/**
 * The Node version and the conditions it resolves packages under (`--conditions`, `-C`, on the
 * command line or in NODE_OPTIONS), which decide the library files a bundle imports. Other
 * flags do not change a bundle.
 * @returns {string}
 */
function runtime() {
  const flags = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
  const conditions = flags.flatMap((flag, index) => {
    if (flag === '--conditions' || flag === '-C') return [flags[index + 1] ?? ''];
    const joined = /^(?:--conditions|-C)=(.*)$/.exec(flag);
    return joined ? [joined[1]] : [];
  });
  return [process.version, ...conditions.sort()].join(' ');
}

/**
 * @param {URL} file
 * @returns {URL}
 */
function mapOf(file) {
  return new URL(`${basename(fileURLToPath(file))}.map`, CACHE);
}

/**
 * Whether a bundle file holds exactly what was written: its name ends in the digest of its code.
 * @param {URL} file
 * @returns {Promise<boolean>}
 */
async function intact(file) {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return false;
  const code = text.slice(0, text.lastIndexOf('//# sourceMappingURL='));
  return basename(fileURLToPath(file)).endsWith(`-${digest([code])}.mjs`);
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

/**
 * @param {URL} file
 * @param {string} text
 */
async function writeAtomically(file, text) {
  const path = fileURLToPath(file);
  // Unique per call: two threads or two calls of one process may write the same file at once.
  const partial = resolve(dirname(path), `.${process.pid}-${randomUUID()}-${basename(path)}`);
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
