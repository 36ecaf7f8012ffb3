/**
 * The docs are how a newcomer finds their way, so a link that leads nowhere is a bug: every
 * relative link in the README and docs/ must reach a file, and its #anchor a heading of that
 * file; every repository path the docs name in code (`test/unit/lease.test.ts`) must exist.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (heading) anchors.add(headingAnchor(heading[1]!));
  }
  for (const [, id] of markdown.matchAll(/<a (?:id|name)="([^"]+)"/g)) anchors.add(id!);
  return anchors;
}

/** The worked example of docs/contributing.md names the files a new metric would add. */
const EXAMPLE_FILES = new Set(['sql/basket_metrics.sql']);

/** Markdown outside fenced code blocks, where links mean links. */
const prose = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, '');

describe('the docs', () => {
  it('name their GitHub anchors as GitHub does', () => {
    expect(headingAnchor('Late data and backfills')).toBe('late-data-and-backfills');
    expect(headingAnchor('Deploying to AWS, and recovering when something fails')).toBe('deploying-to-aws-and-recovering-when-something-fails');
    expect(headingAnchor('`orders`')).toBe('orders');
  });

  it.each(PAGES)('%s: every relative link reaches a file and a heading', (page) => {
    const text = readFileSync(join(ROOT, page), 'utf8');
    const broken: string[] = [];
    for (const [, target] of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [path, anchor] = target!.split('#') as [string, string | undefined];
      const file = path === '' ? join(ROOT, page) : join(dirname(join(ROOT, page)), path);
      if (!existsSync(file)) {
        broken.push(`${target}: no file ${relative(ROOT, file)}`);
        continue;
      }
      if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(anchor)) {
        broken.push(`${target}: no heading #${anchor} in ${relative(ROOT, file)}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it.each(PAGES)('%s: every repository file it names exists', (page) => {
    const text = readFileSync(join(ROOT, page), 'utf8');
    const missing = [...text.matchAll(/`((?:functions|infra|sql|test|docs|bench)\/[\w./-]+\.\w+)`/g)]
      .map(([, path]) => path!)
      .filter((path) => !EXAMPLE_FILES.has(path) && !existsSync(join(ROOT, path)));
    expect(missing).toEqual([]);
  });
});
