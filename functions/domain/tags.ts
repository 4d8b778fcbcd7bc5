import { MAX_TAG_CODE_POINTS, MAX_TAG_LENGTH } from './limits.js';
import { textProblem } from './text.js';

/**
 * Tags on a membership, defined here once. A tag is stored in Unicode NFC, so `e` + U+0301 and the
 * precomposed `é` are one tag (and duplicates are found after normalisation). Its length is counted
 * in user-perceived characters (extended grapheme clusters, after NFC): a family emoji
 * `👨‍👩‍👧` (5 code points, 8 UTF-16 units) counts 1.
 *
 * The characters a tag may not hold are those no stored text may (domain/text.ts): control,
 * line-separator and bidirectional formatting characters, unpaired surrogates.
 * The length limits (MAX_TAG_LENGTH, MAX_TAG_CODE_POINTS) are domain/limits.ts.
 */

// Built on first use: constructing a segmenter loads ICU's break rules (about 28 ms measured on
// the bench machine), which a cold start would pay at import although only tag writes count
// graphemes.
let graphemes: Intl.Segmenter | undefined;

/** User-perceived characters (extended grapheme clusters) in a string. */
export function graphemeLength(text: string): number {
  graphemes ??= new Intl.Segmenter('und', { granularity: 'grapheme' });
  let count = 0;
  for (const _ of graphemes.segment(text)) count++;
  return count;
}

/** The tag as stored (NFC), or why it is refused. */
export function normalizeTag(raw: string): { tag: string } | { error: string } {
  // NFC neither adds nor removes the characters text.ts refuses: checking before it is the same.
  const problem = textProblem(raw);
  if (problem) return { error: problem };
  const tag = raw.normalize('NFC');
  if (tag.length === 0) return { error: 'must not be empty' };
  if ([...tag].length > MAX_TAG_CODE_POINTS) return { error: `must be at most ${MAX_TAG_CODE_POINTS} code points` };
  if (graphemeLength(tag) > MAX_TAG_LENGTH) return { error: `must be at most ${MAX_TAG_LENGTH} characters` };
  return { tag };
}

/** A tag as it may be stored: one the API would accept, already in the form it stores (NFC). */
export function isStoredTag(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const result = normalizeTag(value);
  return 'tag' in result && result.tag === value;
}
