import { MAX_TAG_CODE_POINTS, MAX_TAG_LENGTH } from './limits.js';

/**
 * Tags on a membership, defined here once. A tag is stored in Unicode NFC, so `e` + U+0301 and the
 * precomposed `é` are one tag (and duplicates are found after normalisation). Its length is counted
 * in user-perceived characters (extended grapheme clusters, after NFC): a family emoji
 * `👨‍👩‍👧` (5 code points, 8 UTF-16 units) counts 1.
 *
 * Refused, whatever their position:
 * - control characters (general category Cc: C0 incl. NUL, `\n`, `\t`, DEL, C1);
 * - line and paragraph separators (U+2028, U+2029), which break lines like `\n` does;
 * - unpaired surrogates (a JSON `"\ud800"`), which are not text and cannot be encoded in UTF-8;
 * - every bidirectional formatting character (Unicode property Bidi_Control): the embeddings and
 *   overrides U+202A–U+202E, the isolates U+2066–U+2069, and the invisible marks U+200E (LRM),
 *   U+200F (RLM) and U+061C (ALM). Overrides reorder what is displayed ("Trojan Source"); marks are
 *   invisible, so two tags that look the same would differ. A one-word label never needs them.
 * Zero-width joiners (U+200D, emoji sequences) and non-joiners (U+200C, Persian) are allowed.
 * The length limits (MAX_TAG_LENGTH, MAX_TAG_CODE_POINTS) are domain/limits.ts.
 */

/** Characters a tag may not contain (checked after NFC; lone surrogates are checked before). */
export const FORBIDDEN_TAG_CHARACTERS = /[\p{Cc}\u2028\u2029\p{Bidi_Control}]/u;
const LONE_SURROGATE = /\p{Cs}/u;

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
  if (LONE_SURROGATE.test(raw)) return { error: 'must not contain an unpaired surrogate (U+D800–U+DFFF)' };
  const tag = raw.normalize('NFC');
  const forbidden = FORBIDDEN_TAG_CHARACTERS.exec(tag);
  if (forbidden) {
    const code = forbidden[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return { error: `must not contain control, line-separator or bidirectional formatting characters (found U+${code})` };
  }
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
