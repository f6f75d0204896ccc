/** A key found twice in one JSON object: `path` holds the keys of the objects around it (empty at the top level). */
export interface DuplicateKey {
  readonly path: readonly string[];
  readonly key: string;
}

interface Frame {
  /** The keys seen so far in this object, or null for an array. */
  readonly keys: Set<string> | null;
  /** The key under which this value sits in its parent object (null for array items and the root). */
  readonly name: string | null;
  expectKey: boolean;
  lastKey: string | null;
}

/**
 * The first key that appears twice in one object of a JSON text, or null. `JSON.parse` keeps the last of repeated
 * keys silently; a safetensors header that names a tensor twice is ambiguous, so the header parser asks this scanner.
 * The text must already have parsed (the scanner does not check the syntax), and the scan is linear in its length.
 */
export function findDuplicateKey(text: string): DuplicateKey | null {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (top?.keys != null && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return { path: stack.flatMap((f) => (f.name === null ? [] : [f.name])), key };
        top.keys.add(key);
        top.lastKey = key;
        top.expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const name = top?.keys != null ? top.lastKey : null;
      stack.push({ keys: c === 0x7b ? new Set() : null, name, expectKey: c === 0x7b, lastKey: null });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */ && top?.keys != null) {
      top.expectKey = true;
    }
  }
  return null;
}
