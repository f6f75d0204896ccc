import { execFileSync, spawnSync } from 'node:child_process';
import { inflateSync } from 'node:zlib';

/** A bit-at-a-time CRC-32, independent of the table-driven one under test. */
export function bitwiseCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export interface DecodedPng {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
  readonly chunkTypes: string[];
  readonly filterTypes: number[];
}

/** A small PNG decoder for 8-bit RGB, non-interlaced files: checks the signature, every CRC, IHDR and the filters. */
export function decodePng(png: Uint8Array): DecodedPng {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  signature.forEach((b, i) => {
    if (buf[i] !== b) throw new Error(`bad signature byte ${i}`);
  });
  let offset = 8;
  const chunkTypes: string[] = [];
  const idat: Buffer[] = [];
  let width = 0;
  let height = 0;
  while (offset < buf.length) {
    const length = buf.readUInt32BE(offset);
    const type = buf.toString('latin1', offset + 4, offset + 8);
    const data = buf.subarray(offset + 8, offset + 8 + length);
    const crc = buf.readUInt32BE(offset + 8 + length);
    if (crc !== bitwiseCrc32(buf.subarray(offset + 4, offset + 8 + length))) throw new Error(`bad CRC in ${type}`);
    chunkTypes.push(type);
    if (type === 'IHDR') {
      if (length !== 13) throw new Error('IHDR length');
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== 2 || data[10] !== 0 || data[11] !== 0 || data[12] !== 0) throw new Error(`unsupported IHDR ${[...data.subarray(8)]}`);
    } else if (type === 'IDAT') {
      idat.push(data);
    }
    offset += 12 + length;
    if (type === 'IEND') break;
  }
  if (offset !== buf.length) throw new Error('bytes after IEND');
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 3;
  if (raw.length !== height * (stride + 1)) throw new Error(`inflated ${raw.length} bytes, expected ${height * (stride + 1)}`);
  const rgb = new Uint8Array(height * stride);
  const filterTypes: number[] = [];
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)] as number;
    filterTypes.push(type);
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i] as number;
      const a = i >= 3 ? (rgb[y * stride + i - 3] as number) : 0;
      const b = y > 0 ? (rgb[(y - 1) * stride + i] as number) : 0;
      const c = y > 0 && i >= 3 ? (rgb[(y - 1) * stride + i - 3] as number) : 0;
      let pred = 0;
      if (type === 1) pred = a;
      else if (type === 2) pred = b;
      else if (type === 3) pred = Math.floor((a + b) / 2);
      else if (type === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (type !== 0) throw new Error(`bad filter type ${type}`);
      rgb[y * stride + i] = (x + pred) & 0xff;
    }
  }
  return { width, height, rgb, chunkTypes, filterTypes };
}

function runs(command: string): boolean {
  try {
    execFileSync(command, ['-hide_banner', '-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether ffmpeg and ffprobe are on PATH; when not, the reason, printed once by the mp4 tests that skip. */
export const HAVE_FFMPEG = runs('ffmpeg') && runs('ffprobe');
export const FFMPEG_SKIP_REASON = 'ffmpeg/ffprobe not on PATH: the mp4 tests are skipped (Debian/Ubuntu: apt-get install -y ffmpeg)';

export interface ProbedVideo {
  readonly codec: string;
  readonly width: number;
  readonly height: number;
  readonly pixFmt: string;
  readonly frameRate: string;
  readonly frames: number;
}

/** ffprobe's view of the first video stream, counting the frames by decoding them. */
export function probeVideo(path: string): ProbedVideo {
  const out = execFileSync(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=codec_name,width,height,pix_fmt,r_frame_rate,avg_frame_rate,nb_read_frames', '-of', 'json', path],
    { encoding: 'utf8' },
  );
  const stream = JSON.parse(out).streams[0];
  return { codec: stream.codec_name, width: stream.width, height: stream.height, pixFmt: stream.pix_fmt, frameRate: stream.r_frame_rate, frames: Number(stream.nb_read_frames) };
}

/** The decoded frames of a video (or image) as RGB24 bytes, through ffmpeg. */
export function decodeWithFfmpeg(path: string): Buffer {
  const result = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`ffmpeg decode failed: ${result.stderr}`);
  return result.stdout;
}

/** Whether /usr/bin/python3 has PIL (Pillow): a second independent PNG decoder for the tests. */
export const HAVE_PIL = spawnSync('/usr/bin/python3', ['-c', 'import PIL.Image'], { stdio: 'ignore' }).status === 0;

/** PIL's reading of a PNG file: mode, size and RGB bytes (`Image.open(path).load()`, which checks every CRC). */
export function decodeWithPil(path: string): { mode: string; width: number; height: number; rgb: Buffer } {
  const script = [
    'import sys, base64, json, PIL.Image',
    'im = PIL.Image.open(sys.argv[1]); im.load()',
    'print(json.dumps({"mode": im.mode, "size": im.size, "rgb": base64.b64encode(im.tobytes()).decode()}))',
  ].join('\n');
  const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8', maxBuffer: 1 << 26 }));
  return { mode: out.mode, width: out.size[0], height: out.size[1], rgb: Buffer.from(out.rgb, 'base64') };
}
