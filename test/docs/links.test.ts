import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Every relative link in the README and docs/ leads somewhere: the file exists, and a `#fragment`
 * names a heading of that file, as GitHub renders it (a newcomer follows these links first).
 */
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const PAGES = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), 'bench/PERFORMANCE.md'];

/** GitHub's heading anchors: lower case, punctuation dropped (not `-` or `_`), spaces to `-`, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1]!.replace(/`/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

function linksOf(markdown: string): string[] {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((href) => !/^[a-z][a-z0-9+.-]*:/i.test(href));
}

describe('documentation links', () => {
  it('the anchor rule matches GitHub on this repository\'s kinds of headings', () => {
    expect([...anchorsOf('## 2. Round trips\n### `GET /api/keys` and scopes\n## A\n## A\n```\n# not a heading\n```')]).toEqual([
      '2-round-trips',
      'get-apikeys-and-scopes',
      'a',
      'a-1',
    ]);
  });

  for (const page of PAGES) {
    it(`every relative link of ${page} resolves, fragment included`, () => {
      const markdown = readFileSync(path.join(ROOT, page), 'utf8');
      const broken: string[] = [];
      for (const href of linksOf(markdown)) {
        const [file, fragment] = href.split('#') as [string, string | undefined];
        const target = file ? path.resolve(path.dirname(path.join(ROOT, page)), decodeURIComponent(file)) : path.join(ROOT, page);
        if (!existsSync(target)) {
          broken.push(`${href} (no such file)`);
          continue;
        }
        if (fragment && target.endsWith('.md') && statSync(target).isFile() && !anchorsOf(readFileSync(target, 'utf8')).has(fragment)) {
          broken.push(`${href} (no such heading)`);
        }
      }
      expect(broken).toEqual([]);
    });
  }
});
