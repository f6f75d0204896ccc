// Plain-text tables and JSON on stdout.

/** A fixed-width text table; columns listed in `right` are right-aligned (numbers). */
export function formatTable(options: { header: readonly string[]; rows: readonly (readonly string[])[]; right?: readonly number[] }): string {
  const { header, rows } = options;
  const right = new Set(options.right ?? []);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Prints a value as indented JSON (the `--json` output of every command); non-finite numbers become strings. */
export function printJson(value: unknown): void {
  process.stdout.write(
    `${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`,
  );
}

export const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;
