/**
 * Builds a SentencePiece `precompiled_charsmap` (the format precompiled-charsmap.ts reads: u32 trie size, a
 * Darts-clone double array over the keys' UTF-8 bytes, NUL-ended replacement strings) from a key -> replacement table,
 * for the synthetic tokenizer. Hugging Face tokenizers (Rust) and SentencePiece read what this writes.
 *
 * Layout: breadth-first, each node's children (and its leaf, label 0) placed in the first 256-unit block position
 * `base` not used by another node where every `base ^ label` is free; a child unit holds its label, its has-leaf bit and `offset = pos ^ base`
 * of its own children (< 2^21, so bit 9 stays 0); a leaf unit holds 2^31 | the replacement's byte offset.
 */

interface TrieNode {
  readonly children: Map<number, TrieNode>;
  value: number | null;
  /** Where this node's unit is. */
  pos: number;
}

const MAX_OFFSET = 2 ** 21;

/** The charsmap's bytes for `table` (key -> replacement; keys non-empty and without NUL). */
export function buildPrecompiledCharsmap(table: ReadonlyMap<string, string>): Uint8Array {
  const encoder = new TextEncoder();
  // Replacement strings, each once, NUL-ended.
  const stringOffsets = new Map<string, number>();
  const stringParts: Uint8Array[] = [];
  let stringBytes = 0;
  const root: TrieNode = { children: new Map(), value: null, pos: 0 };
  for (const [key, replacement] of [...table].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (key === '' || key.includes('\0')) throw new Error(`buildPrecompiledCharsmap: key ${JSON.stringify(key)} is empty or holds a NUL`);
    let offset = stringOffsets.get(replacement);
    if (offset === undefined) {
      offset = stringBytes;
      const bytes = encoder.encode(`${replacement}\0`);
      stringParts.push(bytes);
      stringBytes += bytes.length;
      stringOffsets.set(replacement, offset);
    }
    let node = root;
    for (const byte of encoder.encode(key)) {
      let child = node.children.get(byte);
      if (child === undefined) {
        child = { children: new Map(), value: null, pos: -1 };
        node.children.set(byte, child);
      }
      node = child;
    }
    node.value = offset;
  }

  const units: number[] = [0];
  const used: boolean[] = [true]; // unit 0 is the root
  const isFree = (pos: number) => !used[pos];
  const take = (pos: number, unit: number) => {
    while (units.length <= pos) {
      units.push(0);
      used.push(false);
    }
    units[pos] = unit;
    used[pos] = true;
  };
  // Unit bits written for a node once its base is known: label | has_leaf << 8 | offset << 10.
  const queue: TrieNode[] = [root];
  const usedBases = new Set<number>();
  let searchFrom = 256;
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] as TrieNode;
    const labels = [...node.children.keys()];
    if (node.value !== null) labels.push(0);
    if (labels.length === 0) continue;
    // Bases are unique: two nodes sharing one would each match the other's children.
    let base = searchFrom;
    while (usedBases.has(base) || !labels.every((l) => isFree(base ^ l))) base++;
    usedBases.add(base);
    while (searchFrom < units.length && used[searchFrom]) searchFrom++;
    const offset = node.pos ^ base;
    if (offset >= MAX_OFFSET) throw new Error('buildPrecompiledCharsmap: the table is too large for 21-bit offsets');
    const label = node === root ? 0 : (units[node.pos] as number) & 0xff;
    take(node.pos, label | (node.value !== null ? 1 << 8 : 0) | (offset << 10));
    if (node.value !== null) take(base, (2 ** 31 + node.value) >>> 0);
    for (const [byte, child] of node.children) {
      child.pos = base ^ byte;
      take(child.pos, byte); // label now, the rest when the child's own base is chosen
      queue.push(child);
    }
  }

  // Whole 256-unit blocks, as Darts-clone writes them: a lookup of any byte from any node stays inside the array.
  while (units.length % 256 !== 0) units.push(0);
  const trieBytes = units.length * 4;
  const blob = new Uint8Array(4 + trieBytes + stringBytes);
  const view = new DataView(blob.buffer);
  view.setUint32(0, trieBytes, true);
  units.forEach((u, i) => view.setUint32(4 + 4 * i, u >>> 0, true));
  let at = 4 + trieBytes;
  for (const part of stringParts) {
    blob.set(part, at);
    at += part.length;
  }
  return blob;
}
