/**
 * The central directory of the zip that torch.save writes (PyTorch >= 1.6; miniz's writer): every member stored
 * (method 0, no compression), each member's data aligned by padding in its local header's extra field, the sizes in
 * a data descriptor (flag bit 3) and in the central directory, zip64 records once the file passes 4 GiB (Wan's 11.4 GB
 * umT5 file). Only the directory is read (positioned reads near the end of the file, then one local header per
 * member); member data is read later, by the caller, at `dataStart`.
 *
 * Refused: compression, encryption, several disks (UNSUPPORTED_ZIP); names that are absolute, hold `..`, `\` or NUL,
 * repeated names, members that overlap each other or the directory, a local header that disagrees with the central
 * one (INVALID_ZIP); structures past the end of the file (TRUNCATED).
 */
import type { FileHandle } from "node:fs/promises";
import { readAt } from "./_io";
import { WAN_PTH_ERROR_CODES, pthFail } from "./pth-error";

/** One member of the zip. */
export interface ZipMember {
  readonly name: string;
  /** Where its (stored) bytes start in the file. */
  readonly dataStart: number;
  /** Its size in bytes (stored = uncompressed). */
  readonly size: number;
  /** CRC-32 of its bytes, as the directory records it. */
  readonly crc32: number;
}

/** Caps on what a directory may hold (a corrupt end record must not become an allocation of gigabytes). */
export const PTH_MAX_ZIP_MEMBERS = 1_000_000;
export const PTH_MAX_CENTRAL_DIRECTORY_BYTES = 256_000_000;

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_BYTES = 22;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_BYTES = 20;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const ZIP64_EOCD_BYTES = 56;
const CENTRAL_SIGNATURE = 0x02014b50;
const CENTRAL_BYTES = 46;
const LOCAL_SIGNATURE = 0x04034b50;
const LOCAL_BYTES = 30;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;

/** A little-endian u64 as a number, or a TRUNCATED/INVALID_ZIP error when it is past 2^53 (no file is that large). */
function u64(view: DataView, at: number, file: string, what: string): number {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    pthFail(
      WAN_PTH_ERROR_CODES.INVALID_ZIP,
      file,
      `${what} ${value} is not a possible file offset or size`
    );
  return Number(value);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The reasons a member name is unsafe, or null. Names are never used as paths, but a torch archive has none of these. */
function unsafeName(name: string): string | null {
  if (name.length === 0) return "is empty";
  if (name.includes("\0")) return "holds a NUL";
  if (name.includes("\\")) return "holds a backslash";
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) return "is absolute";
  if (name.split("/").some((part) => part === ".." || part === "."))
    return 'holds a "." or ".." segment';
  return null;
}

interface EndRecord {
  entries: number;
  cdSize: number;
  cdOffset: number;
}

async function readEndRecord(
  handle: FileHandle,
  file: string,
  size: number
): Promise<EndRecord> {
  if (size < EOCD_BYTES)
    pthFail(
      WAN_PTH_ERROR_CODES.TRUNCATED,
      file,
      `truncated or not a zip: ${size} bytes, fewer than a zip's 22-byte end record`
    );
  const tailLength = Math.min(size, EOCD_BYTES + U16_MAX + ZIP64_LOCATOR_BYTES);
  const tailStart = size - tailLength;
  const tail = await readAt({
    handle,
    file,
    position: tailStart,
    length: tailLength,
    what: "the zip end record",
  });
  const view = viewOf(tail);
  let at = -1;
  for (let i = tail.length - EOCD_BYTES; i >= 0; i--) {
    if (
      view.getUint32(i, true) === EOCD_SIGNATURE &&
      i + EOCD_BYTES + view.getUint16(i + 20, true) === tail.length
    ) {
      at = i;
      break;
    }
  }
  if (at < 0) {
    pthFail(
      WAN_PTH_ERROR_CODES.INVALID_ZIP,
      file,
      "is not a zip (no end-of-central-directory record in its last 64 KiB): truncated, or not a torch.save file"
    );
  }
  const disk = view.getUint16(at + 4, true);
  const cdDisk = view.getUint16(at + 6, true);
  const diskEntries = view.getUint16(at + 8, true);
  let entries = view.getUint16(at + 10, true);
  let cdSize = view.getUint32(at + 12, true);
  let cdOffset = view.getUint32(at + 16, true);
  const locatorAt = at - ZIP64_LOCATOR_BYTES;
  const hasLocator =
    locatorAt >= 0 &&
    view.getUint32(locatorAt, true) === ZIP64_LOCATOR_SIGNATURE;
  const needs64 =
    entries === U16_MAX ||
    diskEntries === U16_MAX ||
    cdSize === U32_MAX ||
    cdOffset === U32_MAX;
  if (needs64 && !hasLocator)
    pthFail(
      WAN_PTH_ERROR_CODES.INVALID_ZIP,
      file,
      "its end record defers to a zip64 record but no zip64 locator precedes it"
    );
  if (hasLocator) {
    const locator = viewOf(
      tail.subarray(locatorAt, locatorAt + ZIP64_LOCATOR_BYTES)
    );
    if (locator.getUint32(4, true) !== 0 || locator.getUint32(16, true) > 1) {
      pthFail(
        WAN_PTH_ERROR_CODES.UNSUPPORTED_ZIP,
        file,
        "is a zip split over several disks (torch.save writes one file)"
      );
    }
    const recordAt = u64(locator, 8, file, "the zip64 end record offset");
    if (recordAt + ZIP64_EOCD_BYTES > tailStart + locatorAt) {
      pthFail(
        WAN_PTH_ERROR_CODES.INVALID_ZIP,
        file,
        `its zip64 end record offset ${recordAt} does not leave room for the record before the locator`
      );
    }
    const record = viewOf(
      await readAt({
        handle,
        file,
        position: recordAt,
        length: ZIP64_EOCD_BYTES,
        what: "the zip64 end record",
      })
    );
    if (record.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE)
      pthFail(
        WAN_PTH_ERROR_CODES.INVALID_ZIP,
        file,
        `no zip64 end record at offset ${recordAt} (bad signature)`
      );
    if (record.getUint32(16, true) !== 0 || record.getUint32(20, true) !== 0) {
      pthFail(
        WAN_PTH_ERROR_CODES.UNSUPPORTED_ZIP,
        file,
        "is a zip split over several disks (torch.save writes one file)"
      );
    }
    const entries64 = u64(record, 32, file, "the zip64 entry count");
    if (
      u64(record, 24, file, "the zip64 entry count on this disk") !== entries64
    ) {
      pthFail(
        WAN_PTH_ERROR_CODES.UNSUPPORTED_ZIP,
        file,
        "is a zip split over several disks (torch.save writes one file)"
      );
    }
    entries = entries64;
    cdSize = u64(record, 40, file, "the zip64 central directory size");
    cdOffset = u64(record, 48, file, "the zip64 central directory offset");
  } else if (disk !== 0 || cdDisk !== 0 || diskEntries !== entries) {
    pthFail(
      WAN_PTH_ERROR_CODES.UNSUPPORTED_ZIP,
      file,
      "is a zip split over several disks (torch.save writes one file)"
    );
  }
  if (entries > PTH_MAX_ZIP_MEMBERS)
    pthFail(
      WAN_PTH_ERROR_CODES.LIMIT_EXCEEDED,
      file,
      `its zip lists ${entries} members, past the limit of ${PTH_MAX_ZIP_MEMBERS}`
    );
  if (cdSize > PTH_MAX_CENTRAL_DIRECTORY_BYTES) {
    pthFail(
      WAN_PTH_ERROR_CODES.LIMIT_EXCEEDED,
      file,
      `its zip central directory of ${cdSize} bytes is past the limit of ${PTH_MAX_CENTRAL_DIRECTORY_BYTES}`
    );
  }
  const directoryEnd = tailStart + (hasLocator ? locatorAt : at);
  if (cdOffset + cdSize > size) {
    pthFail(
      WAN_PTH_ERROR_CODES.TRUNCATED,
      file,
      `truncated: the zip central directory [${cdOffset}, ${
        cdOffset + cdSize
      }) ends past the file's ${size} bytes`
    );
  }
  if (cdOffset + cdSize > directoryEnd) {
    pthFail(
      WAN_PTH_ERROR_CODES.INVALID_ZIP,
      file,
      `the zip central directory [${cdOffset}, ${
        cdOffset + cdSize
      }) overlaps the end record at ${directoryEnd}`
    );
  }
  return { entries, cdSize, cdOffset };
}

interface CentralEntry {
  name: string;
  localOffset: number;
  size: number;
  crc32: number;
}

function parseCentral(
  file: string,
  cd: Uint8Array,
  entries: number
): CentralEntry[] {
  const view = viewOf(cd);
  const out: CentralEntry[] = [];
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let at = 0;
  for (let e = 0; e < entries; e++) {
    if (
      at + CENTRAL_BYTES > cd.length ||
      view.getUint32(at, true) !== CENTRAL_SIGNATURE
    ) {
      pthFail(
        WAN_PTH_ERROR_CODES.INVALID_ZIP,
        file,
        `zip central directory entry ${e} of ${entries} is missing or has a bad signature (at directory byte ${at})`
      );
    }
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    let compressed = view.getUint32(at + 20, true);
    let size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    let disk = view.getUint16(at + 34, true);
    let localOffset = view.getUint32(at + 42, true);
    const end = at + CENTRAL_BYTES + nameLength + extraLength + commentLength;
    if (end > cd.length)
      pthFail(
        WAN_PTH_ERROR_CODES.INVALID_ZIP,
        file,
        `zip central directory entry ${e} runs past the directory's ${cd.length} bytes`
      );
    let name: string;
    try {
      name = decoder.decode(
        cd.subarray(at + CENTRAL_BYTES, at + CENTRAL_BYTES + nameLength)
      );
    } catch {
      pthFail(
        WAN_PTH_ERROR_CODES.INVALID_ZIP,
        file,
        `zip member ${e}'s name is not UTF-8`
      );
    }
    const shown = JSON.stringify(name);
    // zip64 extra field (id 1): the 64-bit values of exactly the fields saturated at 0xFFFFFFFF (0xFFFF for the disk), in order.
    if (
      size === U32_MAX ||
      compressed === U32_MAX ||
      localOffset === U32_MAX ||
      disk === U16_MAX
    ) {
      const extra = viewOf(
        cd.subarray(
          at + CENTRAL_BYTES + nameLength,
          at + CENTRAL_BYTES + nameLength + extraLength
        )
      );
      let found = false;
      for (let x = 0; x + 4 <= extra.byteLength; ) {
        const id = extra.getUint16(x, true);
        const length = extra.getUint16(x + 2, true);
        if (x + 4 + length > extra.byteLength) break;
        if (id === 1) {
          found = true;
          let p = x + 4;
          const take = (what: string): number => {
            if (p + 8 > x + 4 + length)
              pthFail(
                WAN_PTH_ERROR_CODES.INVALID_ZIP,
                file,
                `zip member ${shown}'s zip64 extra field is too short for its ${what}`
              );
            const value = u64(
              extra,
              p,
              file,
              `zip member ${shown}'s zip64 ${what}`
            );
            p += 8;
            return value;
          };
          if (size === U32_MAX) size = take("size");
          if (compressed === U32_MAX) compressed = take("compressed size");
          if (localOffset === U32_MAX) localOffset = take("offset");
          if (disk === U16_MAX) {
            if (p + 4 > x + 4 + length)
              pthFail(
                WAN_PTH_ERROR_CODES.INVALID_ZIP,
                file,
                `zip member ${shown}'s zip64 extra field is too short for its disk`
              );
            disk = extra.getUint32(p, true);
          }
          break;
        }
        x += 4 + length;
      }
      if (!found)
        pthFail(
          WAN_PTH_ERROR_CODES.INVALID_ZIP,
          file,
          `zip member ${shown} has 0xFFFFFFFF sizes or offset but no zip64 extra field`
        );
    }
    if (disk !== 0)
      pthFail(
        WAN_PTH_ERROR_CODES.UNSUPPORTED_ZIP,
        file,
        `zip member ${shown} is on disk ${disk} (torch.save writes one file)`
      );
    if (flags & 0x41)
      pthFail(
        WAN_PTH_ERROR_CODES.UNSUPPORTED_ZIP,
        file,
        `zip member ${shown} is encrypted`
      );
    if (method !== 0) {
      pthFail(
        WAN_PTH_ERROR_CODES.UNSUPPORTED_ZIP,
        file,
        `zip member ${shown} is compressed (method ${method}); torch.save stores members uncompressed and only stored members are read`
      );
    }
    if (compressed !== size)
      pthFail(
        WAN_PTH_ERROR_CODES.INVALID_ZIP,
        file,
        `zip member ${shown} is stored but its sizes differ (${compressed} stored, ${size} uncompressed)`
      );
    const unsafe = unsafeName(name);
    if (unsafe !== null)
      pthFail(
        WAN_PTH_ERROR_CODES.INVALID_ZIP,
        file,
        `zip member name ${shown} ${unsafe}: refused`
      );
    out.push({ name, localOffset, size, crc32: crc });
    at = end;
  }
  return out;
}

/**
 * Reads the zip directory of an open file of `size` bytes: the end record (zip64 when present), the central
 * directory, and the local header of every member (to find where its data starts). Members by name.
 */
export async function readZipDirectory(options: {
  handle: FileHandle;
  file: string;
  size: number;
}): Promise<ReadonlyMap<string, ZipMember>> {
  const { handle, file, size } = options;
  const end = await readEndRecord(handle, file, size);
  const cd = await readAt({
    handle,
    file,
    position: end.cdOffset,
    length: end.cdSize,
    what: "the zip central directory",
  });
  const central = parseCentral(file, cd, end.entries);
  const members = new Map<string, ZipMember>();
  const decoder = new TextDecoder("utf-8", { fatal: false });
  for (const entry of central) {
    const shown = JSON.stringify(entry.name);
    if (members.has(entry.name))
      pthFail(
        WAN_PTH_ERROR_CODES.INVALID_ZIP,
        file,
        `zip member ${shown} appears twice`
      );
    if (entry.localOffset + LOCAL_BYTES > end.cdOffset) {
      pthFail(
        WAN_PTH_ERROR_CODES.INVALID_ZIP,
        file,
        `zip member ${shown}'s local header at ${entry.localOffset} is not before the central directory at ${end.cdOffset}`
      );
    }
    const local = viewOf(
      await readAt({
        handle,
        file,
        position: entry.localOffset,
        length: LOCAL_BYTES,
        what: `zip member ${shown}'s local header`,
      })
    );
    if (local.getUint32(0, true) !== LOCAL_SIGNATURE)
      pthFail(
        WAN_PTH_ERROR_CODES.INVALID_ZIP,
        file,
        `zip member ${shown} has no local header at offset ${entry.localOffset}`
      );
    const method = local.getUint16(8, true);
    const nameLength = local.getUint16(26, true);
    const extraLength = local.getUint16(28, true);
    if (method !== 0)
      pthFail(
        WAN_PTH_ERROR_CODES.UNSUPPORTED_ZIP,
        file,
        `zip member ${shown} is compressed (method ${method}) in its local header`
      );
    const localName = decoder.decode(
      await readAt({
        handle,
        file,
        position: entry.localOffset + LOCAL_BYTES,
        length: nameLength,
        what: `zip member ${shown}'s local header`,
      })
    );
    if (localName !== entry.name) {
      pthFail(
        WAN_PTH_ERROR_CODES.INVALID_ZIP,
        file,
        `zip member ${shown}'s local header names it ${JSON.stringify(
          localName
        )}`
      );
    }
    const dataStart =
      entry.localOffset + LOCAL_BYTES + nameLength + extraLength;
    if (dataStart + entry.size > end.cdOffset) {
      const past = dataStart + entry.size > size;
      pthFail(
        past ? WAN_PTH_ERROR_CODES.TRUNCATED : WAN_PTH_ERROR_CODES.INVALID_ZIP,
        file,
        `zip member ${shown}'s ${entry.size} bytes at ${dataStart} run past ${
          past
            ? `the end of the file (${size} bytes)`
            : `the central directory at ${end.cdOffset}`
        }`
      );
    }
    members.set(entry.name, {
      name: entry.name,
      dataStart,
      size: entry.size,
      crc32: entry.crc32,
    });
  }
  // Members must not overlap (a torch archive's never do; overlap is how zip bombs and confused readers start).
  const spans = [...members.values()].sort((a, b) => a.dataStart - b.dataStart);
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1] as ZipMember;
    const next = spans[i] as ZipMember;
    if (prev.dataStart + prev.size > next.dataStart - LOCAL_BYTES) {
      pthFail(
        WAN_PTH_ERROR_CODES.INVALID_ZIP,
        file,
        `zip members ${JSON.stringify(prev.name)} and ${JSON.stringify(
          next.name
        )} overlap`
      );
    }
  }
  return members;
}
