import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { bundledModuleUrl } from '../../functions/local/source-bundle.mjs';
import { temporaryDirectory } from '../support/cli.ts';

const CACHE = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'customer-marketing-pipeline');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A two-module program in a folder of its own, with an entry name no other test uses. */
async function program(): Promise<{ entry: URL; helper: string; name: string }> {
  const { path, cleanup } = await temporaryDirectory('source-bundle-');
  const name = `probe-${process.pid}-${Math.random().toString(36).slice(2)}`;
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
      'export { helperUrl };',
    ].join('\n'),
  );
  const helper = join(path, 'helper.ts');
  await writeFile(helper, 'export const answer: number = 41;\nexport const helperUrl = import.meta.url;\n');
  return { entry: pathToFileURL(join(path, `${name}.ts`)), helper, name };
}

describe('the command bundle (source-bundle.mjs)', () => {
  it('runs the sources as they are: each keeps its own import.meta.url, libraries resolve from the project', async () => {
    const { entry, helper } = await program();
    const url = await bundledModuleUrl(entry);
    expect(url.protocol).toBe('file:');
    const bundled = await import(url.href);
    expect(bundled.parsed).toBe(41);
    expect(bundled.ownUrl).toBe(entry.href);
    expect(bundled.helperUrl).toBe(pathToFileURL(helper).href);
  });

  it('reuses the bundle while the sources read the same, and makes a new one when one changes', async () => {
    const { entry, helper, name } = await program();
    const first = await bundledModuleUrl(entry);
    const manifest = join(CACHE, `${name}.json`);
    const written = (await stat(manifest)).mtimeMs;
    // Not bundled again: a new bundle would rewrite the manifest.
    expect(await bundledModuleUrl(entry)).toEqual(first);
    expect((await stat(manifest)).mtimeMs).toBe(written);

    await writeFile(helper, 'export const answer: number = 42;\nexport const helperUrl = import.meta.url;\n');
    const second = await bundledModuleUrl(entry);
    expect(second).not.toEqual(first);
    expect((await import(second.href)).parsed).toBe(42);
    // A cache that cannot be read is rebuilt, not trusted.
    await writeFile(manifest, '{');
    expect((await import((await bundledModuleUrl(entry)).href)).parsed).toBe(42);
  });
});
