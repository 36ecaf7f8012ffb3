import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { bundledModuleUrl } from '../../functions/local/source-bundle.mjs';
import { temporaryDirectory } from '../support/cli.ts';

const CACHE = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'customer-marketing-pipeline');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A two-module program in a folder of its own, its entry named `name` (unique unless given). */
async function program(name = `probe-${process.pid}-${Math.random().toString(36).slice(2)}`): Promise<{ entry: URL; helper: string; folder: string }> {
  const { path, cleanup } = await temporaryDirectory('source-bundle-');
  cleanups.push(cleanup, async () => {
    for (const file of await readdir(CACHE)) if (file.startsWith(name)) await rm(join(CACHE, file), { force: true });
  });
  await writeFile(
    join(path, `${name}.ts`),
    [
      "import { z } from 'zod';",
      "import { answer, helperUrl } from './helper.ts';",
      'export const parsed: number = z.number().parse(answer);',
      'export const ownUrl: string = import.meta.url;',
      'export const ownFolder: string = import.meta.dirname;',
      'export const ownFile: string = import.meta.filename;',
      "export const mention = 'found with import.meta.url';",
      'export { helperUrl };',
    ].join('\n'),
  );
  const helper = join(path, 'helper.ts');
  await writeFile(helper, 'export const answer: number = 41;\nexport const helperUrl = import.meta.url;\n');
  return { entry: pathToFileURL(join(path, `${name}.ts`)), helper, folder: path };
}

/** The manifest the cache keeps for an entry. */
async function manifestOf(entry: URL): Promise<string> {
  const name = fileURLToPath(entry).split('/').pop()!.replace(/\.ts$/, '');
  const manifests = (await readdir(CACHE)).filter((file) => file.startsWith(`${name}-`) && file.endsWith('.json'));
  expect(manifests).toHaveLength(1);
  return join(CACHE, manifests[0]!);
}

describe('the command bundle (source-bundle.mjs)', () => {
  it('runs the sources as they are: each keeps its own import.meta, libraries resolve from the project', async () => {
    const { entry, helper, folder } = await program();
    const url = await bundledModuleUrl(entry);
    expect(url.protocol).toBe('file:');
    const bundled = await import(url.href);
    expect(bundled.parsed).toBe(41);
    expect(bundled.ownUrl).toBe(entry.href);
    expect(bundled.ownFolder).toBe(folder);
    expect(bundled.ownFile).toBe(fileURLToPath(entry));
    expect(bundled.helperUrl).toBe(pathToFileURL(helper).href);
    // Replaced in the code, not in the text.
    expect(bundled.mention).toBe('found with import.meta.url');
  });

  it('reuses the bundle while the sources read the same, and makes a new one when one changes', async () => {
    const { entry, helper } = await program();
    const first = await bundledModuleUrl(entry);
    const manifest = await manifestOf(entry);
    const written = (await stat(manifest)).mtimeMs;
    // Not bundled again: a new bundle would rewrite the manifest. Node flags that do not
    // change how packages resolve do not count.
    expect(await bundledModuleUrl(entry)).toEqual(first);
    process.execArgv.push('--max-old-space-size=4096');
    try {
      expect(await bundledModuleUrl(entry)).toEqual(first);
    } finally {
      process.execArgv.pop();
    }
    expect((await stat(manifest)).mtimeMs).toBe(written);

    await writeFile(helper, 'export const answer: number = 42;\nexport const helperUrl = import.meta.url;\n');
    const second = await bundledModuleUrl(entry);
    expect(second).not.toEqual(first);
    expect((await import(second.href)).parsed).toBe(42);
    // A manifest that cannot be read is made again, not trusted.
    await writeFile(manifest, '{');
    expect((await import((await bundledModuleUrl(entry)).href)).parsed).toBe(42);
  });

  it('makes a bundle cut short (a crash while writing), or its lost source map, again', async () => {
    const { entry } = await program();
    const first = await bundledModuleUrl(entry);
    await writeFile(first, 'export const parsed = ');
    const again = await bundledModuleUrl(entry);
    expect(again).toEqual(first);
    expect((await import(`${again.href}?again`)).parsed).toBe(41);
    await rm(`${fileURLToPath(first)}.map`);
    await bundledModuleUrl(entry);
    expect((await stat(`${fileURLToPath(first)}.map`)).size).toBeGreaterThan(0);
  });

  it('keeps entries of the same name in different folders (two checkouts sharing node_modules) apart', async () => {
    const name = `same-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const one = await program(name);
    const other = await program(name);
    await writeFile(other.helper, 'export const answer: number = 7;\nexport const helperUrl = import.meta.url;\n');
    expect((await import((await bundledModuleUrl(one.entry)).href)).parsed).toBe(41);
    expect((await import((await bundledModuleUrl(other.entry)).href)).parsed).toBe(7);
    expect((await import((await bundledModuleUrl(one.entry)).href)).parsed).toBe(41);
  });
});
