/** A value as it appears in a message: JSON, cut at 80 characters (headers can hold anything). */
export function show(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** `[1, 2, 3]`: a shape or an offset pair as messages print it. */
export function showList(values: readonly number[]): string {
  return `[${values.join(', ')}]`;
}
