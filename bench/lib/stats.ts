/** Small statistics and formatting helpers for the bench. */

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const median = (values: readonly number[]) => quantile(values, 0.5);

export const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

export const round = (value: number, digits = 1) => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

export function fmt(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const fmtInt = (value: number) => Math.round(value).toLocaleString('en-US');

export const kb = (bytes: number) => `${fmt(bytes / 1024, 0)} KB`;

/** A Markdown table (also what the console shows, so the log reads like the report). */
export function markdownTable(header: string[], rows: (string | number)[][], alignment?: string): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c)).join(' | ')} |`;
  // One letter per column, l or r; by default the first column left, the others (figures) right.
  const align = header.map((_, i) => ((alignment?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? '---' : '---:'));
  return [line(header), `|${align.join('|')}|`, ...rows.map(line)].join('\n');
}

export const pass = (ok: boolean) => (ok ? '✅ pass' : '❌ miss');

export function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}
