/** A value as it appears in a message: JSON (numbers as JavaScript prints them), cut at 80 characters. */
export function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (ArrayBuffer.isView(value)) {
    const length = (value as unknown as { length?: unknown }).length;
    return typeof length === 'number' ? `a ${value.constructor.name} of ${length} values` : `a ${value.constructor.name}`;
  }
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** `[1, 2, 3]`: a shape as messages print it. */
export function showShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The first `count` names, comma-separated, then `, ...` when there are more: lists in messages stay short. */
export function showFirst(names: readonly string[], count = 5): string {
  const shown = names.slice(0, count).join(', ');
  return names.length > count ? `${shown}, ...` : shown;
}
