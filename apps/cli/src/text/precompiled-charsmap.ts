/**
 * SentencePiece's `precompiled_charsmap` (the `Precompiled` normalizer of umT5's tokenizer.json) read and applied as
 * Hugging Face tokenizers does it (`tokenizers/src/normalizers/precompiled.rs` over the `spm_precompiled` crate), which
 * is what Wan's `AutoTokenizer` runs. @huggingface/tokenizers 0.2 ignores the charsmap and runs NFKC plus a few regexes
 * instead; this is the faithful replacement the CLI plugs into it (umt5-tokenizer.ts).
 *
 * Blob: u32 LE trie size in bytes, the trie (Darts-clone double array of u32 LE units, keys are UTF-8 bytes, a key's
 * value is a byte offset into the strings), then the replacement strings, each ended by a NUL.
 *
 * Unit bits: label = unit & (2^31 | 0xFF) (a leaf unit has bit 31 set, so it never matches a byte), has_leaf = bit 8,
 * offset = (unit >> 10) << (8 if bit 9 else 0), a leaf's value = unit & (2^31 - 1). From the root (unit 0):
 * pos ^= offset(root); per byte c: pos ^= c; unit = array[pos]; label(unit) != c -> stop; pos ^= offset(unit);
 * has_leaf(unit) -> a match whose value is array[pos].
 *
 * Normalization (HF's, not SentencePiece's longest-match): per extended grapheme cluster; a cluster of fewer than 6
 * UTF-8 bytes that has a match is replaced whole by the replacement of its SHORTEST matching prefix; otherwise each
 * character is replaced by its own (shortest-prefix) replacement or kept. Clusters come from `Intl.Segmenter` (ICU),
 * HF's from the `unicode-segmentation` crate; both implement UAX #29.
 */

/** A charsmap that cannot be read; the loader turns it into the CLI's error naming the file. */
export class PrecompiledCharsmapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrecompiledCharsmapError';
  }
}

const LEAF_BIT = 2 ** 31;

const hasLeaf = (unit: number): boolean => ((unit >>> 8) & 1) === 1;
const leafValue = (unit: number): number => unit & 0x7fffffff;
const labelOf = (unit: number): number => (unit & 0xff) + (unit >= LEAF_BIT ? LEAF_BIT : 0);
const offsetOf = (unit: number): number => (unit >>> 10) << ((unit & (1 << 9)) >>> 6);

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export class PrecompiledCharsmap {
  /** The double array's units. */
  readonly #units: Uint32Array;
  /** The NUL-separated replacement strings (UTF-8). */
  readonly #strings: Uint8Array;
  readonly #segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  readonly #cache = new Map<string, string | null>();

  constructor(blob: Uint8Array) {
    if (blob.length < 4) throw new PrecompiledCharsmapError(`the charsmap has ${blob.length} bytes, fewer than its 4-byte trie size`);
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 !== 0 || trieBytes === 0 || 4 + trieBytes > blob.length) {
      throw new PrecompiledCharsmapError(`the charsmap's trie size ${trieBytes} is not a positive multiple of 4 within its ${blob.length - 4} bytes`);
    }
    this.#units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.#units.length; i++) this.#units[i] = view.getUint32(4 + 4 * i, true);
    this.#strings = blob.subarray(4 + trieBytes);
    try {
      decoder.decode(this.#strings);
    } catch {
      throw new PrecompiledCharsmapError('the charsmap\'s replacement strings are not valid UTF-8');
    }
  }

  static fromBase64(base64: string): PrecompiledCharsmap {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) throw new PrecompiledCharsmapError('precompiled_charsmap is not base64');
    return new PrecompiledCharsmap(new Uint8Array(Buffer.from(base64, 'base64')));
  }

  #unit(pos: number): number {
    const unit = this.#units[pos];
    if (unit === undefined) throw new PrecompiledCharsmapError(`the charsmap's trie points outside itself (unit ${pos} of ${this.#units.length})`);
    return unit;
  }

  /** The values of every key that prefixes `key` (shortest first); a NUL byte ends the key. */
  commonPrefixSearch(key: Uint8Array): number[] {
    const results: number[] = [];
    let pos = offsetOf(this.#unit(0));
    for (const c of key) {
      if (c === 0) break;
      pos ^= c;
      const unit = this.#unit(pos);
      if (labelOf(unit) !== c) return results;
      pos ^= offsetOf(unit);
      if (hasLeaf(unit)) results.push(leafValue(this.#unit(pos)));
    }
    return results;
  }

  /** The replacement of the shortest key that prefixes `chunk`, or null (spm_precompiled's `transform`). */
  transform(chunk: string): string | null {
    const cached = this.#cache.get(chunk);
    if (cached !== undefined) return cached;
    const results = this.commonPrefixSearch(encoder.encode(chunk));
    let out: string | null = null;
    if (results.length > 0) {
      const start = results[0] as number;
      if (start > this.#strings.length) throw new PrecompiledCharsmapError(`a charsmap value ${start} is past its ${this.#strings.length} bytes of strings`);
      let end = start;
      while (end < this.#strings.length && this.#strings[end] !== 0) end++;
      try {
        out = decoder.decode(this.#strings.subarray(start, end));
      } catch {
        throw new PrecompiledCharsmapError(`the charsmap value ${start} does not start on a character`);
      }
    }
    if (this.#cache.size < 65536) this.#cache.set(chunk, out);
    return out;
  }

  /** HF's `Precompiled` normalizer over `text` (see the file's comment). */
  normalize(text: string): string {
    let out = '';
    for (const { segment } of this.#segmenter.segment(text)) {
      if (Buffer.byteLength(segment, 'utf8') < 6) {
        const whole = this.transform(segment);
        if (whole !== null) {
          out += whole;
          continue;
        }
      }
      for (const c of segment) out += this.transform(c) ?? c;
    }
    return out;
  }
}
