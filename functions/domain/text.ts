/**
 * What free text the API stores may hold: tags, names (projects, org users, keys, roles) and
 * descriptions. Refused, whatever their position:
 * - control characters (general category Cc: C0 incl. NUL, `\n`, `\t`, DEL, C1), except line
 *   breaks and tabs in a description, which is prose;
 * - line and paragraph separators (U+2028, U+2029), which break lines like `\n` does;
 * - unpaired surrogates (a JSON `"\ud800"`), which are not text and cannot be encoded in UTF-8;
 * - every bidirectional formatting character (Unicode property Bidi_Control): the embeddings and
 *   overrides U+202A–U+202E, the isolates U+2066–U+2069, and the invisible marks U+200E (LRM),
 *   U+200F (RLM) and U+061C (ALM). Overrides reorder what is displayed ("Trojan Source": a name
 *   shown as `admin` that is not), and marks are invisible, so two names that look the same differ.
 * Zero-width joiners (U+200D, emoji sequences) and non-joiners (U+200C, Persian) are allowed.
 */
const FORBIDDEN = /[\p{Cc}\u2028\u2029\p{Bidi_Control}]/gu;
const PROSE_WHITESPACE = new Set(['\n', '\r', '\t']);
const LONE_SURROGATE = /\p{Cs}/u;

/** The text with what {@link textProblem} refuses written as `\uXXXX` escapes: printable on one line. */
export const escapeForbidden = (text: string) =>
  text.replace(FORBIDDEN, (found) => `\\u${found.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Whether a string is Unicode text: no unpaired surrogate, so it encodes to UTF-8 as it is. */
export const isWellFormed = (text: string) => !LONE_SURROGATE.test(text);

export const TEXT_RULE = 'no control, line-separator or bidirectional formatting characters, no unpaired surrogates';

/** Why this text may not be stored, or null. `prose` allows line breaks and tabs. */
export function textProblem(text: string, options: { prose?: boolean } = {}): string | null {
  if (!isWellFormed(text)) return 'must not contain an unpaired surrogate (U+D800–U+DFFF)';
  const forbidden = [...text.matchAll(FORBIDDEN)].find(([found]) => !(options.prose && PROSE_WHITESPACE.has(found)));
  if (!forbidden) return null;
  const code = forbidden[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `must not contain control, line-separator or bidirectional formatting characters (found U+${code})`;
}
